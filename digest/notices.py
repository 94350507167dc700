"""The one door for transactional mail: :func:`enqueue_notice` hands a notice (its kind
and ids) to the Celery workers when a broker is set (task ``digest.send_notice``), else to
this process's notice thread (the embedded mode, ``digest serve`` on its own). Either way
the caller only queues; the worker renders, builds and sends with the retry policy of
:mod:`digest.subscribers.notify`, and never holds up a request.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from dataclasses import dataclass
from functools import partial

from kombu.exceptions import OperationalError

from digest.celery_app import enqueue
from digest.db import session_scope
from digest.mail.backends import get_backend
from digest.mail.errors import TemporaryFailure
from digest.settings import Settings
from digest.subscribers.notify import RETRIES, Notice, Notify, attempt, retry_delay

log = logging.getLogger(__name__)

# Notices the thread holds at once, retries included. Beyond it a notice is refused (and a
# confirmation's daily slot given back at once) rather than let an outage grow memory.
CAPACITY = 100


def enqueue_notice(settings: Settings, notice: Notice) -> bool:
    """Queue the notice; False when it could not be (broker unreachable, thread full)."""
    if not settings.broker_url:
        return _THREAD.submit(settings, notice)
    try:
        enqueue(settings, "digest.send_notice", notice.kind, notice.subscriber_id, notice.list_id)
    except OperationalError as exc:
        log.warning("%s mail to subscriber %s not queued: %s", notice.kind, notice.subscriber_id, exc)
        return False
    return True


def notifier(settings: Settings) -> Notify:
    """What the services take as `notify`."""
    return partial(enqueue_notice, settings)


@dataclass(frozen=True)
class _Job:
    settings: Settings
    notice: Notice
    retries: int = 0


class _NoticeThread:
    """One daemon thread that tries notices in order of when they are due; a failed try
    goes back in with its delay, so one notice's backoff never delays the others."""

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._due: list[tuple[float, int, _Job]] = []
        self._ready = threading.Condition()
        self._order = itertools.count()     # ties on the due time keep arrival order
        self._thread: threading.Thread | None = None

    def submit(self, settings: Settings, notice: Notice) -> bool:
        with self._ready:
            if len(self._due) >= self._capacity:
                log.warning("%s mail to subscriber %s not queued: %d notices waiting",
                            notice.kind, notice.subscriber_id, len(self._due))
                return False
            self._push(_Job(settings, notice), 0)
            # Started on first use, and again in a process forked after it started.
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="notices", daemon=True)
                self._thread.start()
        return True

    def _push(self, job: _Job, delay: float) -> None:
        heapq.heappush(self._due, (time.monotonic() + delay, next(self._order), job))
        self._ready.notify()

    def _next(self) -> _Job:
        with self._ready:
            while True:
                wait = self._due[0][0] - time.monotonic() if self._due else None
                if wait is not None and wait <= 0:
                    return heapq.heappop(self._due)[2]
                self._ready.wait(wait)

    def _run(self) -> None:
        while True:
            job = self._next()
            try:
                with session_scope(job.settings.database_url) as session:
                    attempt(session, job.settings, get_backend(job.settings), job.notice,
                            last=job.retries >= RETRIES)
            except TemporaryFailure as exc:
                delay = retry_delay(job.retries)
                log.info("%s mail to subscriber %s: %s; retry %d in %.1f s", job.notice.kind,
                         job.notice.subscriber_id, exc, job.retries + 1, delay)
                with self._ready:
                    self._push(_Job(job.settings, job.notice, job.retries + 1), delay)
            except Exception:   # a thread has nobody to raise to: log it for ops, go on
                log.exception("%s mail to subscriber %s dropped", job.notice.kind,
                              job.notice.subscriber_id)


_THREAD = _NoticeThread(CAPACITY)
