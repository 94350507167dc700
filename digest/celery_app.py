"""The Celery application, configured from settings. digest.worker is the door that uses it."""

from __future__ import annotations

import logging
import time
import tomllib
import uuid
from datetime import timedelta

from celery import Celery
from celery.signals import setup_logging, worker_process_init

from digest import logs, metrics, resource
from digest.diagnose import ONE_LINE_OUTAGES
from digest.settings import Settings, get_settings

# Redis redelivers a task that is not acknowledged within this time: it must exceed the
# longest task, countdown and retry delay (batches last seconds; transactional mail
# retries wait at most ten minutes).
VISIBILITY_TIMEOUT = 3600
# A task still running at this age is killed (and, with acks_late, redelivered by the
# broker later): it can never outlive the visibility timeout and run twice at once.
TASK_TIME_LIMIT = VISIBILITY_TIMEOUT // 2


def beat_schedule(path=resource("config") / "beat.toml") -> dict:
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
    # The same filter object each time, so making the app again adds nothing.
    logging.getLogger("celery.app.trace").addFilter(ONE_LINE_OUTAGES)
    return app


# Workers and beat log as the other doors do (DIGEST_LOG_LEVEL, DIGEST_LOG_FORMAT), not at
# Celery's --loglevel.
setup_logging.connect(logs.on_celery_setup_logging, weak=False)


@worker_process_init.connect(weak=False)
def serve_metrics(**_kwargs) -> None:
    """Each prefork pool process serves its own metrics (its counts and its relay
    connections) at DIGEST_WORKER_METRICS_PORT plus its pool index (0, 1, ...): the index
    is kept by the process that replaces a dead one, so the ports stay the same."""
    from billiard.process import current_process

    settings = get_settings()
    if settings.worker_metrics_port is not None:
        metrics.serve(settings.worker_metrics_host,
                      settings.worker_metrics_port + (getattr(current_process(), "index", 0) or 0),
                      settings.metrics_token)


def enqueue(settings: Settings, task: str, *args, times: int = 1) -> None:
    """Queue `task` with `args` on the broker, `times` times: how the CLI and the web hand
    work to the workers. Send batches go through :func:`enqueue_batches`."""
    if task == BATCH_TASK:
        enqueue_batches(settings, args[0], times)
        return
    app = make_celery(settings)
    for _ in range(times):
        app.send_task(task, args=list(args))


BATCH_TASK = "digest.send_batch"


def _queued_key(settings: Settings, edition_id: int) -> str:
    return f"digest:{settings.celery_queue}:batches:{edition_id}"


#: A queued batch not started this long after it was due counts as lost (a worker dropped
#: it, a deploy did not know it): the reconciler may then queue another for its rows. Too
#: long would stall a send; too short costs only a batch that finds nothing to claim.
QUEUED_LOST_AFTER = 600


def enqueue_batches(settings: Settings, edition_id: int, count: int, countdown: float = 0) -> int:
    """Queue up to `count` send batches of the edition, less the ones queued and not yet
    started: whoever asks (start, resume, the reconciler every minute, a batch waiting out
    an outage), rows that a queued batch will take never get a second one. Returns how many
    were queued. Queued batches are counted in Redis (a sorted set of task ids by when they
    are due) when the broker or DIGEST_REDIS_URL is Redis; see QUEUED_LOST_AFTER."""
    app = make_celery(settings)
    redis_url = settings.shared_redis_url
    if redis_url is None:
        for _ in range(count):
            app.send_task(BATCH_TASK, args=[edition_id], countdown=countdown or None)
        return count
    import redis

    client = redis.Redis.from_url(redis_url)
    key, now = _queued_key(settings, edition_id), time.time()
    client.zremrangebyscore(key, "-inf", now - QUEUED_LOST_AFTER)
    waiting = client.zcard(key)
    if not countdown:
        # A worker that died holding batches it had reserved (prefetched, or waiting for
        # their countdown) never starts them, and the broker gives them back only after
        # its visibility timeout: count on no more than still wait in the queue's list.
        waiting = min(waiting, client.llen(settings.celery_queue))
    wanted = max(0, count - waiting)
    for _ in range(wanted):
        task_id = uuid.uuid4().hex
        app.send_task(BATCH_TASK, args=[edition_id], task_id=task_id, countdown=countdown or None)
        # Counted once it is really queued; scored by when it is due to start.
        client.zadd(key, {task_id: now + countdown})
        client.expire(key, VISIBILITY_TIMEOUT)
    return wanted


def batch_started(settings: Settings, edition_id: int, task_id: str | None) -> None:
    """A queued batch is running: it no longer counts as queued."""
    if settings.shared_redis_url and task_id:
        import redis

        redis.Redis.from_url(settings.shared_redis_url).zrem(_queued_key(settings, edition_id), task_id)
