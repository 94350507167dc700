"""The Celery entry point: `celery -A worker worker` and `celery -A worker beat`."""

from digest.celery_app import make_celery
from digest.settings import get_settings

app = make_celery(get_settings())
