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
# A task still running at this age is killed (and, with acks_late, redelivered by the
# broker later): it can never outlive the visibility timeout and run twice at once.
TASK_TIME_LIMIT = VISIBILITY_TIMEOUT // 2


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
        # One task at a time per process: a prefetched batch's redelivery clock runs from
        # the moment it is reserved, while it waits behind another.
        worker_prefetch_multiplier=1,
        task_time_limit=TASK_TIME_LIMIT,
        broker_transport_options={"visibility_timeout": VISIBILITY_TIMEOUT},
        result_backend_transport_options={"visibility_timeout": VISIBILITY_TIMEOUT},
        broker_connection_retry_on_startup=True,
        task_default_queue=settings.celery_queue,
        beat_schedule=beat_schedule(),
        timezone="UTC",
    )
    return app


def enqueue(settings: Settings, task: str, *args, times: int = 1) -> None:
    """Queue `task` with `args` on the broker, `times` times: how the CLI and the web hand
    work to the workers."""
    app = make_celery(settings)
    for _ in range(times):
        app.send_task(task, args=list(args))
