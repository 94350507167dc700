"""Starting work from the console: on the Celery workers when a broker is configured,
otherwise in a background thread of this process (the embedded mode)."""

from __future__ import annotations

import logging
import threading

from sqlmodel import Session

from digest.celery_app import enqueue
from digest.db import session_scope
from digest.mail.backends import get_backend
from digest.send.service import run_batches, start_send
from digest.settings import Settings

log = logging.getLogger(__name__)


def start(session: Session, settings: Settings, edition_id: int) -> None:
    """Start the send here (quick: one render and one INSERT ... SELECT), so refusals such as
    "already sending" reach the person at once; the batches then run elsewhere."""
    continue_batches(settings, edition_id, start_send(session, settings, edition_id))


def continue_batches(settings: Settings, edition_id: int, batches: int) -> None:
    if not batches:
        return
    if settings.broker_url:
        enqueue(settings, "digest.send_batch", edition_id, times=batches)
        return
    threading.Thread(target=_run_batches, args=(settings, edition_id), name=f"send-{edition_id}",
                     daemon=True).start()


def _run_batches(settings: Settings, edition_id: int) -> None:
    try:
        with session_scope(settings.database_url) as session:
            run_batches(session, settings, get_backend(settings), edition_id)
    except Exception:  # a thread has nobody to raise to: log it for ops
        log.exception("send of edition %s stopped", edition_id)
