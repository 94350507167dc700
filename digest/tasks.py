"""Celery tasks. Thin: each takes ids, opens a session and calls one service function."""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task

from digest.db import session_scope
from digest.ingest.service import ingest_due as ingest_due_service
from digest.mail.backends import get_backend
from digest.schedule import tick
from digest.send import service as send_service
from digest.send.service import SendError
from digest.settings import get_settings

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
    enqueue_batches(edition_id, batches)


def enqueue_batches(edition_id: int, count: int) -> None:
    for _ in range(count):
        send_batch.delay(edition_id)


# Each batch is bounded (DIGEST_BATCH_SIZE messages over one connection: seconds, far below
# the broker's visibility timeout) and idempotent, so acks_late redelivery is safe.
@shared_task(name="digest.send_batch")
def send_batch(edition_id: int) -> None:
    settings = get_settings()
    with session_scope(settings.database_url) as session:
        report = send_service.send_batch(session, settings, get_backend(settings), edition_id)
    log.info("edition %s batch: %s", edition_id, report.outcomes)


# Periodic (config/beat.toml): takes back dead batches' claims, re-queues pending rows and
# deferred rows now due, and marks finished sends sent.
@shared_task(name="digest.reconcile")
def reconcile() -> None:
    settings = get_settings()
    with session_scope(settings.database_url) as session:
        due = send_service.reconcile(session)
    for edition_id, rows in due.items():
        enqueue_batches(edition_id, send_service.batches_for(settings, rows))


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
        for report in ingest_due_service(session, settings):
            log.info("ingest %s: %s", report.source, report.summary())
