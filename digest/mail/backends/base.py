"""The backend contract.

- ``send(message)``: one message (transactional mail, a test copy); raises a
  :class:`digest.mail.errors.MailError` subclass when it did not go through.
- ``send_stream(jobs, gate)``: the bulk path. Messages one after another over one
  connection; the gate is asked before each message's data goes out (the ledger marks it in
  flight) and told each outcome.
- ``lanes(want)``: up to `want` backends that may stream at the same time (one connection
  each); a backend without connections of its own is its own single lane.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol

from digest.mail.errors import MailError
from digest.mail.message import OutgoingMessage


@dataclass(frozen=True)
class Job:
    delivery_id: int | None
    message: OutgoingMessage


class Gate(Protocol):
    def begin(self, job: Job) -> bool:
        """Called right before `job`'s data goes out; False: do not send it."""

    def done(self, job: Job, failure: MailError | None) -> None:
        """`job`'s outcome: None when it was accepted."""


class SingleGate:
    """For one message sent on its own: always begins, keeps the failure."""

    failure: MailError | None = None

    def begin(self, job: Job) -> bool:
        return True

    def done(self, job: Job, failure: MailError | None) -> None:
        self.failure = failure

    def raise_failure(self) -> None:
        if self.failure is not None:
            raise self.failure


class MailBackend:
    def open(self) -> None:
        """Acquire what sending needs (a connection). Idempotent."""

    def close(self) -> None:
        """Release it. Idempotent, never raises."""

    def send(self, message: OutgoingMessage) -> None:
        """Deliver one message or raise a :class:`digest.mail.errors.MailError` subclass."""
        raise NotImplementedError

    def send_stream(self, jobs: Iterator[Job], gate: Gate) -> None:
        self.open()
        for job in jobs:
            if not gate.begin(job):
                continue
            try:
                self.send(job.message)
            except MailError as failure:
                gate.done(job, failure)
            else:
                gate.done(job, None)

    @contextmanager
    def lanes(self, want: int) -> Iterator[list[MailBackend]]:
        with self:
            yield [self]

    def __enter__(self) -> MailBackend:
        self.open()
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()
