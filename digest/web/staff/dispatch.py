"""Starting work from the console: on the Celery workers when a broker is configured,
otherwise in a background thread of this process (the embedded mode)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from enum import StrEnum

from sqlmodel import Session

from digest.celery_app import enqueue
from digest.db import session_scope
from digest.mail.backends import get_backend
from digest.send import control
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


class SendAction(StrEnum):
    """What ops may do to a send, from the console or the API."""

    START = "start"
    PAUSE = "pause"
    RESUME = "resume"
    CANCEL = "cancel"
    RETRY = "retry"  # the deferred, expired and failed deliveries, now


#: Each action's service call and what the console then says.
SEND_ACTIONS: dict[SendAction, tuple[Callable[[Session, Settings, int], object], str]] = {
    SendAction.START: (start, "Send started."),
    SendAction.PAUSE: (lambda session, _, edition_id: control.pause_send(session, edition_id), "Paused."),
    SendAction.RESUME: (lambda session, settings, edition_id: continue_batches(
        settings, edition_id, control.resume_send(session, settings, edition_id)), "Resumed."),
    SendAction.CANCEL: (lambda session, _, edition_id: control.cancel_send(session, edition_id), "Cancelled."),
    SendAction.RETRY: (lambda session, settings, edition_id: continue_batches(
        settings, edition_id, control.retry_failed(session, settings, edition_id)[1]),
        "Failed deliveries queued again."),
}


def steer(session: Session, settings: Settings, edition_id: int, action: SendAction) -> str:
    """Run one of ops' send actions; the notice to show. SendError when it is refused."""
    run, notice = SEND_ACTIONS[action]
    run(session, settings, edition_id)
    return notice
