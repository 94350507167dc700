"""Celery tasks. Thin: each takes ids, opens a session and calls one service function."""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task

from digest.bounces import imap as bounce_mailbox
from digest.celery_app import batch_started, beat_schedule, enqueue_batches
from digest.db import session_scope
from digest.ingest.service import ingest_due as ingest_due_service
from digest.mail.backends import get_backend
from digest.mail.errors import TemporaryFailure
from digest.schedule import tick
from digest.models import utcnow
from digest.send import ledger, waves
from digest.send import service as send_service
from digest.send.service import SendError
from digest.settings import get_settings
from digest.subscribers import notify

log = logging.getLogger(__name__)


@shared_task(name="digest.start_send")
def start_send(edition_id: int) -> None:
    settings = get_settings()
    with session_scope(settings.database_url) as session:
        try:
            batches = send_service.start_send(session, settings, edition_id)
        except SendError as exc:
            log.warning("send of edition %s not started: %s", edition_id, exc)
            return
    enqueue_batches(settings, edition_id, batches)


# Each batch is bounded (DIGEST_BATCH_SIZE messages over the process's pooled connections:
# seconds, far below the broker's visibility timeout) and idempotent, so acks_late
# redelivery is safe. A batch that found the relay out of reach queues one follow-up after
# DIGEST_RETRY_BASE_SECONDS (its rows are deferred until then), so sending resumes that soon
# after the relay is back; the follow-up counts as queued, so the reconciler adds none.
@shared_task(name="digest.send_batch", bind=True)
def send_batch(self, edition_id: int) -> None:
    settings = get_settings()
    batch_started(settings, edition_id, self.request.id)
    with session_scope(settings.database_url) as session:
        report = send_service.send_batch(session, settings, get_backend(settings), edition_id)
    if report.outage:
        enqueue_batches(settings, edition_id, 1, countdown=settings.retry_base_seconds)
    elif report.recovered:
        with session_scope(settings.database_url) as session:
            due = ledger.count_due(session, edition_id)
        enqueue_batches(settings, edition_id, send_service.batches_for(settings, due))


# Periodic (config/beat.toml): takes back dead batches' claims, re-queues pending rows and
# deferred rows now due, and marks finished sends sent. A local-time send's wave due before
# the next run is queued with a countdown to its time (at most one interval: far below the
# broker's visibility timeout); a later wave waits for a later run, so no wave lives only
# in the broker or a worker's memory.
@shared_task(name="digest.reconcile")
def reconcile() -> None:
    settings = get_settings()
    interval = beat_schedule()["reconcile-sends"]["schedule"]
    with session_scope(settings.database_url) as session:
        due = send_service.reconcile(session)
        now = utcnow()
        coming = waves.coming(session, now, interval)
    for edition_id, rows in due.items():
        enqueue_batches(settings, edition_id, send_service.batches_for(settings, rows))
    for edition_id, (at, rows) in coming.items():
        enqueue_batches(settings, edition_id, send_service.batches_for(settings, rows),
                        countdown=max((at - now).total_seconds(), 0.1))


@shared_task(name="digest.schedule_tick")
def schedule_tick() -> None:
    settings = get_settings()
    with session_scope(settings.database_url) as session:
        report = tick(session, max_lateness=timedelta(minutes=settings.max_lateness_minutes))
    for note in report.notes:
        log.warning(note)
    for edition_id in report.due:
        start_send.delay(edition_id)


@shared_task(name="digest.ingest_due")
def ingest_due() -> None:
    settings = get_settings()
    with session_scope(settings.database_url) as session:
        ingest_due_service(session, settings)


# Periodic (config/beat.toml): the bounce mailbox, when DIGEST_BOUNCE_IMAP_HOST is set.
# Idempotent: a report already recorded changes nothing, and a message is moved only after
# its outcome is committed. A bounded run (the limit) ends far inside the time limit.
@shared_task(name="digest.poll_bounces")
def poll_bounces() -> None:
    settings = get_settings()
    if not settings.bounce_imap_host:
        return
    with session_scope(settings.database_url) as session:
        report = bounce_mailbox.poll(session, settings, limit=500)
    log.info("bounce mailbox: %s processed, %s left in it unread, %s for the next run",
             report.processed, len(report.failed), report.left)
    for failure in report.failed:
        log.warning("bounce not processed: %s", failure)


# One transactional mail, from ids (the worker renders it, so no address or token sits in
# the broker). The retry policy is notify's, shared with the embedded mode's thread; its
# longest countdown (notify.RETRY_MAX_SECONDS) is far below the visibility timeout.
@shared_task(bind=True, name="digest.send_notice", autoretry_for=(TemporaryFailure,),
             max_retries=notify.RETRIES, retry_backoff=notify.RETRY_BASE_SECONDS,
             retry_backoff_max=notify.RETRY_MAX_SECONDS, retry_jitter=True)
def send_notice(self, kind: str, subscriber_id: int, list_id: int | None) -> None:
    settings = get_settings()
    notice = notify.Notice(notify.Kind(kind), subscriber_id, list_id)
    with session_scope(settings.database_url) as session:
        notify.attempt(session, settings, get_backend(settings), notice,
                       last=self.request.retries >= self.max_retries)
