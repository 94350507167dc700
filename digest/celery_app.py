"""The Celery application, configured from settings. worker.py is the door that uses it."""

from __future__ import annotations

import tomllib
from datetime import timedelta

from celery import Celery

from digest import PROJECT_ROOT
from digest.settings import Settings

# Redis redelivers a task that is not acknowledged within this time: it must exceed the
# longest task, countdown and retry delay (batches last seconds; retries are re-queued by
# the reconciler, not by countdowns).
VISIBILITY_TIMEOUT = 3600


def beat_schedule(path=PROJECT_ROOT / "config" / "beat.toml") -> dict:
    entries = tomllib.loads(path.read_text(encoding="utf-8"))
    return {name: {"task": e["task"], "schedule": timedelta(seconds=e["every"])}
            for name, e in entries.items()}


def make_celery(settings: Settings) -> Celery:
    if not settings.broker_url:
        raise RuntimeError("DIGEST_BROKER_URL is not set: there is no broker to use")
    app = Celery("digest", broker=settings.broker_url, include=["digest.tasks"])
    app.conf.update(
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,
        # Batches are idempotent (the ledger decides what is left), so redelivering a task
        # whose worker died is safe and is what makes the send finish.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_transport_options={"visibility_timeout": VISIBILITY_TIMEOUT},
        broker_connection_retry_on_startup=True,
        task_default_queue=settings.celery_queue,
        beat_schedule=beat_schedule(),
        timezone="UTC",
    )
    return app
