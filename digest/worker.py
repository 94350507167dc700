"""The deployment's Celery app: `digest worker`, `digest beat`, or `celery -A digest.worker ...`."""

from digest.celery_app import make_celery
from digest.settings import get_settings

app = make_celery(get_settings())
