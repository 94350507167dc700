"""One batch's messages over several connections at once, each outcome in the ledger as it
happens.

The batch's rows wait in a :class:`Jobs` queue; each lane (a connection, in a thread of its
own) takes the next one, so a slow connection never holds the others back. Per message a
lane asks the ledger's :class:`~digest.send.writing.Writer` to write the previous outcome and
mark this row in flight, in one durable transaction, before the data goes out. What stops a
batch early (pause, rate limit, the relay refusing our mail, temporary failures in a row)
stops every lane before its next message; rows nobody tried go back to the ledger.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from digest import metrics
from digest.mail.backends.base import Job, MailBackend
from digest.mail.errors import Bounce, ConnectionTrouble, MailError, NoSlot, Rejected, UnknownOutcome
from digest.mail.message import OutgoingMessage
from digest.models import DeliveryStatus, utcnow
from digest.send import problems, writing
from digest.send.ratelimit import RateLimited, RateLimiter
from digest.settings import Settings

#: A lane gives up after this many connection failures with no message sent in between.
LANE_ATTEMPTS = 2


@dataclass(frozen=True)
class Row:
    delivery_id: int
    attempts: int  # before this batch's attempt
    build: Callable[[], OutgoingMessage]
    due_from: datetime | None = None  # a local-time wave's time: its retry window starts then


@dataclass
class Stop:
    """Why a batch stopped before its rows ran out."""

    note: str
    pause: str | None = None  # a problem ops must look at before it goes on (problems.*)
    outage: bool = False      # the relay cannot be reached: the rows wait for a retry


@dataclass
class Run:
    """What lanes share: the queue, the counters that stop a batch, the report."""

    settings: Settings
    send_started_at: datetime
    writer: writing.Writer
    limiter: RateLimiter
    rows: deque[Row]
    list_slug: str  # labels the batch's messages in the metrics
    outcomes: dict[str, int] = field(default_factory=dict)
    stop: Stop | None = None
    trouble: ConnectionTrouble | None = None  # the last connection failure
    skipped: list[int] = field(default_factory=list)  # unsubscribed meanwhile
    _in_a_row: dict[str, int] = field(default_factory=dict)  # refusals, temporary, bounces
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self) -> Row | None:
        with self._lock:
            if self.stop is not None or not self.rows:
                return None
            row = self.rows.popleft()
        try:
            self.limiter.acquire()
        except RateLimited as limited:
            self.put_back([row])
            self.halt(Stop(str(limited)))
            return None
        except Exception as exc:  # the limiter's Redis is gone: stop rather than go unlimited
            self.put_back([row])
            self.halt(Stop(f"the send rate limit cannot be checked: {exc}"))
            return None
        return row

    def note_trouble(self, trouble: ConnectionTrouble) -> None:
        with self._lock:
            # A real failure outranks "no slot": it decides whether this is an outage.
            if not isinstance(trouble, NoSlot) or self.trouble is None:
                self.trouble = trouble

    def put_back(self, rows: list[Row]) -> None:
        with self._lock:
            self.rows.extendleft(reversed(rows))

    def halt(self, stop: Stop) -> None:
        with self._lock:
            if self.stop is None:
                self.stop = stop

    def count(self, status: DeliveryStatus, failure: MailError | None) -> None:
        """Tally an outcome; stop the batch when the relay keeps refusing or deferring."""
        temporary = status in (DeliveryStatus.DEFERRED, DeliveryStatus.EXPIRED)
        kinds = {"refusals": isinstance(failure, Rejected) and failure.relay,
                 "temporary": temporary, "bounces": status == DeliveryStatus.BOUNCED}
        metrics.MESSAGES.labels(str(status), self.list_slug).inc()
        with self._lock:
            self.outcomes[str(status)] = self.outcomes.get(str(status), 0) + 1
            for kind, happened in kinds.items():
                self._in_a_row[kind] = self._in_a_row.get(kind, 0) + 1 if happened else 0
            refusals, temporaries, bounces = (self._in_a_row[k] for k in kinds)
        if refusals >= self.settings.smtp_max_consecutive_refusals:
            self.halt(Stop(failure.reason.removeprefix(f"{problems.REFUSED}: "), pause=problems.REFUSED))
        elif bounces >= self.settings.smtp_max_consecutive_bounces:
            # Real lists do not lose this many mailboxes in a row: more likely a refusal of
            # our own mail that reads like a bounce. Stop suppressing until someone looks.
            self.halt(Stop(f"{bounces} addresses in a row, the last with: {failure.reason}",
                           pause=problems.BOUNCING))
        elif temporaries >= self.settings.smtp_max_consecutive_failures:
            self.halt(Stop(f"stopped after {temporaries} temporary failures in a row"))
        elif temporary:
            # The server asked us to slow down (or is gone): back off before the next one.
            time.sleep(self.settings.smtp_backoff_seconds * 2 ** (temporaries - 1))

    def outcome(self, row: Row, failure: MailError | None, recipient: str) -> writing.Outcome:
        """What the ledger records for a reply (see digest.mail.errors for the kinds)."""
        if failure is None:
            return writing.Outcome(row.delivery_id, DeliveryStatus.SENT)
        if isinstance(failure, Bounce):
            return writing.Outcome(row.delivery_id, DeliveryStatus.BOUNCED, failure.reason, suppress=recipient)
        if isinstance(failure, Rejected):
            return writing.Outcome(row.delivery_id, DeliveryStatus.FAILED, failure.reason)
        if isinstance(failure, UnknownOutcome):
            return writing.Outcome(row.delivery_id, DeliveryStatus.UNKNOWN, failure.reason)
        window_from = max(self.send_started_at, row.due_from or self.send_started_at)
        status, retry_at = retry_policy(self.settings, window_from, row.attempts + 1)
        return writing.Outcome(row.delivery_id, status, failure.reason, retry_at)


def retry_policy(settings: Settings, send_started_at: datetime,
                 attempts: int) -> tuple[DeliveryStatus, datetime | None]:
    """Deferred with exponential backoff (base doubling per attempt, capped at an hour) until
    the retry window since the send started is over; then expired."""
    now = utcnow()
    if now - send_started_at > timedelta(hours=settings.retry_window_hours):
        return DeliveryStatus.EXPIRED, None
    delay = min(settings.retry_base_seconds * 2 ** max(attempts - 1, 0), 3600)
    return DeliveryStatus.DEFERRED, now + timedelta(seconds=delay)


class Lane:
    """One connection's share of the batch: the gate its backend calls, and the iterator
    of jobs it takes from the shared queue."""

    def __init__(self, run: Run):
        self.run = run
        self.rows: dict[int, Row] = {}       # taken, not yet settled
        self.finished: list[writing.Outcome] = []  # written with the next begin
        self.sent_since_trouble = 0

    def __iter__(self):
        return self

    def __next__(self) -> Job:
        while (row := self.run.take()) is not None:
            try:
                message = row.build()
            except Exception as exc:  # one reader's data must not stop the batch
                self._record(row, Rejected(f"the message cannot be built: {exc}", relay=False), "")
                continue
            self.rows[row.delivery_id] = row
            return Job(row.delivery_id, message)
        raise StopIteration

    def begin(self, job: Job) -> bool:
        outcomes, self.finished = self.finished, []
        began, refusal = self.run.writer.step(outcomes, job.delivery_id)
        if not began:
            self.rows.pop(job.delivery_id)
            if refusal == writing.Refusal.STOPPED:
                self.run.halt(Stop("paused or cancelled"))
            elif refusal == writing.Refusal.UNSUBSCRIBED:
                with self.run._lock:
                    self.run.skipped.append(job.delivery_id)
        return began

    def done(self, job: Job, failure: MailError | None) -> None:
        self._record(self.rows.pop(job.delivery_id), failure, job.message.recipient)

    def _record(self, row: Row, failure: MailError | None, recipient: str) -> None:
        outcome = self.run.outcome(row, failure, recipient)
        self.finished.append(outcome)
        if outcome.status == DeliveryStatus.SENT:
            self.sent_since_trouble += 1
        self.run.count(outcome.status, failure)

    def unsent(self, failure: MailError) -> None:
        """Jobs the connection took but never began go back for another lane."""
        rows = [self.rows.pop(job.delivery_id) for job in getattr(failure, "unsent", [])]
        self.run.put_back(rows)

    def flush(self) -> None:
        if self.finished:
            outcomes, self.finished = self.finished, []
            self.run.writer.step(outcomes, None)

    def drive(self, backend: MailBackend) -> None:
        """Stream until the queue is empty or the batch stops; reconnect after connection
        trouble unless this lane keeps failing."""
        failures = 0
        try:
            while True:
                try:
                    backend.send_stream(self, self)
                    return
                except ConnectionTrouble as trouble:
                    self.unsent(trouble)
                    self.run.note_trouble(trouble)
                    if trouble.busy:
                        return  # the relay (or our cap) has no room for this connection
                    failures = 0 if self.sent_since_trouble else failures + 1
                    self.sent_since_trouble = 0
                    if failures >= LANE_ATTEMPTS:
                        return
                except Rejected as refused:  # e.g. the relay refuses our login
                    self.unsent(refused)
                    self.run.halt(Stop(refused.reason, pause=problems.REFUSED))
                    return
        finally:
            # Rows taken and not settled (an unexpected error) go back; a row already begun
            # is refused when tried again, and its lease decides.
            self.run.put_back(list(self.rows.values()))
            self.rows.clear()
            self.flush()


def run_lanes(run: Run, lanes: list[MailBackend], renew: Callable[[], None], renew_every: float) -> None:
    """Drive every lane in a thread of its own; meanwhile keep the batch's lease alive.
    When every lane gave up with rows left, the relay is out of reach (an outage)."""
    errors: list[BaseException] = []

    def drive(backend: MailBackend) -> None:
        try:
            Lane(run).drive(backend)
        except BaseException as exc:  # a database failure: the batch fails as a whole
            errors.append(exc)
            run.halt(Stop(f"stopped: {exc}"))

    threads = [threading.Thread(target=drive, args=(lane,), daemon=True) for lane in lanes]
    for thread in threads:
        thread.start()
    for thread in threads:
        while thread.is_alive():
            thread.join(renew_every)
            if thread.is_alive():
                try:
                    renew()
                except Exception as exc:  # the lanes stop before their next message; all are joined
                    errors.append(exc)
                    run.halt(Stop(f"stopped: {exc}"))
    if errors:
        raise errors[0]
    if run.stop is None and run.rows:
        trouble = run.trouble
        if isinstance(trouble, NoSlot):
            # Other workers hold every connection allowed: they carry the mail meanwhile.
            run.halt(Stop(trouble.reason))
        else:
            run.halt(Stop(trouble.reason if trouble else "no connection to the relay", outage=True))
