from digest.worker import app  # noqa: F401  (the checkout's door: `celery -A worker worker`)
