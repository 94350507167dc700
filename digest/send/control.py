"""Ops control of a send: progress, pause, resume, cancel, retry, and a test copy.

Plain functions over a session, called by `digest send ...` and the staff console. Each
state change is one conditional UPDATE, so two operators clicking at once cannot both win.
The functions that make rows due again return how many batches to enqueue; the caller
(CLI, web) enqueues them or runs them in-process.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parseaddr

from sqlalchemy import update
from sqlmodel import Session

from digest.mail.backends.base import MailBackend
from digest.mail.errors import CHECK_RELAY, ConnectionTrouble, MailError, TemporaryFailure
from digest.models import DeliveryStatus, DigestList, Edition, EditionStatus, utcnow
from digest.send import ledger, problems, subject_test, waves
from digest.render.variants import ALL
from digest.send.service import SendError, batches_for, mail_template, prepare_variants
from digest.settings import Settings
from digest.subscribers.links import sample_values

E = Edition.__table__

#: What `retry-failed` makes due again (`failed`: refused by the relay's policy, which ops
#: may since have fixed). `unknown` rows may have arrived, so they are only
#: retried when asked (`include_unknown`); `sent`, `bounced` and `skipped` never are.
RETRYABLE = (DeliveryStatus.DEFERRED, DeliveryStatus.EXPIRED, DeliveryStatus.FAILED)

#: How far back the current sending rate is measured at most.
RATE_WINDOW = timedelta(seconds=30)
#: The shortest span a rate is measured over: less says nothing yet.
MIN_RATE_SPAN = timedelta(seconds=1)


@dataclass(frozen=True)
class Progress:
    edition_id: int
    status: str
    counts: dict[str, int]
    rate: float                # messages per second, recently (see recent_rate)
    eta_seconds: float | None  # at that rate; None when nothing is moving
    problem: str | None = None  # why it is not moving ("relay unreachable since 14:05 UTC: ...")
    repeats_over_cap: int = 0   # readers who got a story again because of DIGEST_MAX_VARIANTS
    subject_test: subject_test.Report | None = None  # both subjects' rates and the winner
    waiting: int = 0                # rows of a local-time send waiting for a later wave
    next_wave: datetime | None = None  # when the next of those waves is due

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def left(self) -> int:
        return sum(self.counts.get(s, 0) for s in ledger.OPEN_STATES)

    def count(self, status: DeliveryStatus) -> int:
        return self.counts.get(status, 0)

    @property
    def wave_note(self) -> str | None:
        """"120 wait for a later wave, the next at 2026-12-02 22:00 UTC" (local-time delivery)."""
        if not self.waiting:
            return None
        return f"{self.waiting} wait for a later wave, the next at {self.next_wave:%Y-%m-%d %H:%M} UTC"


def progress(session: Session, edition_id: int, now: datetime | None = None) -> Progress:
    """Where the send stands at `now`; the time to finish counts only rows due by then."""
    edition = _edition(session, edition_id)
    counts = ledger.counts(session, edition_id)
    rate = recent_rate(session, edition_id)
    waiting, next_wave = waves.later(session, edition_id, now or utcnow())
    left = sum(counts.get(s, 0) for s in ledger.OPEN_STATES) - waiting
    return Progress(edition_id, edition.status, counts, rate, left / rate if rate and left else None,
                    problems.describe(edition.send_problem, edition.send_problem_since),
                    edition.repeats_over_cap, subject_test.report(session, edition), waiting, next_wave)


def recent_rate(session: Session, edition_id: int) -> float:
    """Messages per second over the last RATE_WINDOW, or since the first message of that
    window when sending began (or resumed) within it: a send 7 s old is not averaged over
    30 s, which would give an ETA four times too long."""
    now = utcnow()
    count, first = ledger.sent_since(session, edition_id, now - RATE_WINDOW)
    if not count:
        return 0.0
    return count / max(now - first, MIN_RATE_SPAN).total_seconds()


def pause_send(session: Session, edition_id: int) -> None:
    """Sending -> paused. Batches stop before their next message (the ledger's start of each
    message checks)."""
    _change(session, edition_id, (EditionStatus.SENDING,), EditionStatus.PAUSED, "pause")
    session.commit()


def resume_send(session: Session, settings: Settings, edition_id: int) -> int:
    """Paused -> sending; returns the batches to enqueue. Rows a stopped batch still holds
    come back when it releases them or its lease ends; none is skipped or sent twice."""
    _change(session, edition_id, (EditionStatus.PAUSED,), EditionStatus.SENDING, "resume")
    session.commit()
    problems.clear(session, edition_id)  # ops say it is dealt with; a new one is noted anew
    return batches_for(settings, ledger.count_due(session, edition_id))


def cancel_send(session: Session, edition_id: int) -> int:
    """Approved, sending or paused -> cancelled; every row not yet sent is settled as skipped
    (a message in flight is recorded by its batch). Returns how many rows were settled."""
    _change(session, edition_id, (EditionStatus.APPROVED, EditionStatus.SENDING, EditionStatus.PAUSED),
            EditionStatus.CANCELLED, "cancel")
    settled = ledger.settle_open(session, edition_id, DeliveryStatus.SKIPPED, "send cancelled")
    session.commit()
    return settled


def retry_failed(session: Session, settings: Settings, edition_id: int, *,
                 include_unknown: bool = False) -> tuple[int, int]:
    """Deferred and expired rows (and unknown ones if asked) become due now; a finished send
    goes back to sending and its retry window starts again. Returns (rows, batches)."""
    states = RETRYABLE + ((DeliveryStatus.UNKNOWN,) if include_unknown else ())
    edition = _edition(session, edition_id)
    if edition.status not in (EditionStatus.SENDING, EditionStatus.PAUSED, EditionStatus.SENT):
        raise SendError(f"edition {edition_id} is {edition.status}: only a started send has rows to retry")
    rows = ledger.reopen(session, edition_id, states)
    if rows:
        session.execute(update(E).where(E.c.id == edition_id, E.c.status == EditionStatus.SENT)
                        .values(status=EditionStatus.SENDING, sent_at=None))
        session.execute(update(E).where(E.c.id == edition_id).values(send_started_at=utcnow()))
    session.commit()
    if _edition(session, edition_id).status != EditionStatus.SENDING:
        return rows, 0
    return rows, batches_for(settings, ledger.count_due(session, edition_id))


def send_test(session: Session, settings: Settings, backend: MailBackend, edition_id: int,
              address: str) -> str:
    """One copy of the edition, as subscribers will get it, to `address`; no ledger row.
    Works on a draft too: the rendering is not stored. Returns the Message-ID."""
    _, bare = parseaddr(address)
    if bare != address.strip() or "@" not in bare or any(c.isspace() for c in bare):
        raise SendError(f"--test-to {address!r} is not a plain e-mail address")
    edition = _edition(session, edition_id)
    digest_list = session.get(DigestList, edition.list_id)
    try:
        variant = prepare_variants(session, settings, edition)[ALL]
        template = mail_template(settings, digest_list, variant)
    finally:
        # A draft may still change: its rendering must not be kept.
        session.rollback()
    personal = sample_values(settings, edition.list_id, email=bare, name=None, edition_id=edition.id)
    message_id = f"<digest.{edition_id}.test.{secrets.token_hex(6)}@{template.domain}>"
    message = template.assemble(recipient=bare, recipient_name=None, message_id=message_id,
                                personal=personal, unsubscribe_url=personal.unsubscribe_url,
                                subject_prefix="[TEST] ", return_path=settings.bounce_address)
    try:
        with backend:
            backend.send(message)
    except MailError as exc:
        # No reply code: the relay was never reached (a reply would carry one).
        unreached = isinstance(exc, ConnectionTrouble | TemporaryFailure) and exc.code is None
        hint = f" ({CHECK_RELAY})" if unreached else ""
        raise SendError(f"test copy to {bare} failed: {exc.reason}{hint}") from None
    return message_id


def _edition(session: Session, edition_id: int) -> Edition:
    edition = session.get(Edition, edition_id, populate_existing=True)
    if edition is None:
        raise SendError(f"no edition {edition_id}")
    return edition


def _change(session: Session, edition_id: int, from_states: tuple[str, ...], to: str, verb: str) -> None:
    changed = session.execute(update(E).where(E.c.id == edition_id, E.c.status.in_(from_states))
                              .values(status=to)).rowcount
    if not changed:
        session.rollback()
        edition = _edition(session, edition_id)
        raise SendError(f"cannot {verb} edition {edition_id}: it is {edition.status}")
