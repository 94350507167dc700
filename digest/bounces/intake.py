"""The one service function every intake door ends in: :func:`record`.

For each finding of one report it finds the delivery the report is about, stores a
:class:`~digest.models.Feedback` row and applies the policy, all in one transaction:

- a hard bounce suppresses the address at once ("bounce", as an SMTP-time bounce does);
- soft bounces are counted, and ``DIGEST_SOFT_BOUNCE_LIMIT`` of them within
  ``DIGEST_SOFT_BOUNCE_DAYS`` suppress the address ("soft-bounce");
- a complaint unsubscribes the address from every list and suppresses it ("complaint",
  which overrides an earlier unsubscribe);
- an unsubscribe mail with a valid token leaves the token's list; without one, the list of
  the edition its Message-ID names, else every list (see docs/deliverability.md);
- an ignore finding is counted and changes nothing.

Hard bounces and complaints that carry their edition over a warning threshold are logged
once, when they do (digest.bounces.alerts).

A report seen again (same ``report_key``) changes nothing: the Feedback row's unique key
(report, address) is claimed before any action, so two processes reading one report at
once act on it once between them.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import Session, select

from digest.bounces import verp
from digest.bounces.alerts import crossings, log_warnings
from digest.bounces.findings import Finding, Kind
from digest.mail.message import read_message_id
from digest.models import Delivery, Edition, Feedback, Subscriber, utcnow
from digest.settings import Settings
from digest.subscribers.bulk import upsert
from digest.subscribers.manage import end_subscriptions
from digest.subscribers.suppression import SUBSCRIBER, email_hash, suppress
from digest.subscribers.tokens import InvalidToken, Purpose, subscriber_for

_STATUS_LENGTH = 16
#: Findings that count in an edition's warning rates, by EditionReport field.
_RATED = {Kind.HARD: "hard", Kind.COMPLAINT: "complaints"}


@dataclass
class Outcome:
    """What one report did, for the door's log line and exit status."""

    kinds: Counter = field(default_factory=Counter)   # findings per kind
    recorded: int = 0        # Feedback rows stored
    duplicates: int = 0      # findings of a report already recorded
    unattributed: int = 0    # findings naming no address and no delivery of ours
    suppressed: int = 0      # addresses whose suppression changed
    unsubscribed: int = 0    # subscribers who left a list

    def summary(self) -> str:
        kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(self.kinds.items())) or "nothing"
        return (f"{kinds}; {self.recorded} recorded, {self.duplicates} already seen, "
                f"{self.unattributed} unattributed, {self.suppressed} suppressed, "
                f"{self.unsubscribed} unsubscribed")


@dataclass(frozen=True)
class _Target:
    """Who a finding is about."""

    email: str
    subscriber: Subscriber | None = None
    edition_id: int | None = None
    list_id: int | None = None       # from an unsubscribe token
    token_valid: bool = False        # the unsubscribe token was good (its list is the one)


def record(session: Session, settings: Settings, findings: list[Finding], *, source: str,
           report_key: str | None, now: datetime | None = None) -> Outcome:
    """Attribute, store and act on one report's findings. Commits once at the end; on any
    error nothing of the report is kept (the caller may retry it whole)."""
    now = now or utcnow()
    outcome = Outcome()
    rated: dict[int, Counter] = defaultdict(Counter)  # what this report adds to edition rates
    try:
        for finding in findings:
            outcome.kinds[finding.kind.value] += 1
            if finding.kind is Kind.IGNORE:
                continue
            target = _attribute(session, settings, finding)
            if target is None:
                outcome.unattributed += 1
                continue
            if not _claim(session, finding, target, source, report_key, now):
                outcome.duplicates += 1
                continue
            outcome.recorded += 1
            _act(session, settings, finding.kind, target, now, outcome)
            if target.edition_id and finding.kind in _RATED:
                rated[target.edition_id][_RATED[finding.kind]] += 1
        crossed = crossings(session, rated) if rated else []
        session.commit()
    except BaseException:
        session.rollback()
        raise
    for report, kinds in crossed:
        log_warnings(report, kinds)
    return outcome


def _attribute(session: Session, settings: Settings, finding: Finding) -> _Target | None:
    """The VERP return path, else our Message-ID, else the unsubscribe token, else the
    address the report names. An unsubscribe mail's signed token goes first: it names the
    list exactly."""
    by_token = _by_token(session, settings, finding.token) if finding.token else None
    if finding.kind is Kind.UNSUBSCRIBE and by_token is not None:
        return by_token
    if (named := verp.read(settings.secret_key, finding.return_path)) is not None:
        edition_id, subscriber_id = named
        if (subscriber := session.get(Subscriber, subscriber_id)) is not None:
            return _Target(subscriber.email, subscriber, _existing_edition(session, edition_id))
    if (ids := read_message_id(finding.message_id, settings.mail_domain)) is not None:
        delivery = session.exec(select(Delivery.id).where(
            Delivery.edition_id == ids[0], Delivery.subscriber_id == ids[1])).first()
        if delivery is not None and (subscriber := session.get(Subscriber, ids[1])) is not None:
            return _Target(subscriber.email, subscriber, ids[0])
    if by_token is not None:
        return by_token
    if finding.recipient and "@" in finding.recipient:
        email = finding.recipient.strip().lower()
        subscriber = session.exec(select(Subscriber).where(Subscriber.email == email)).first()
        return _Target(email, subscriber)
    return None


def _by_token(session: Session, settings: Settings, token: str) -> _Target | None:
    try:
        subscriber, list_id = subscriber_for(session, settings.secret_key, Purpose.UNSUBSCRIBE, token)
    except InvalidToken:
        return None
    if subscriber is None:
        return None
    return _Target(subscriber.email, subscriber, list_id=list_id, token_valid=True)


def _existing_edition(session: Session, edition_id: int | None) -> int | None:
    # A deleted edition's id would break the Feedback row's foreign key.
    return edition_id if edition_id and session.get(Edition, edition_id) is not None else None


def _claim(session: Session, finding: Finding, target: _Target, source: str,
           report_key: str | None, now: datetime) -> bool:
    """Store the Feedback row; False when this report already has one for this address."""
    table = Feedback.__table__
    row = upsert(session)(table).values(
        edition_id=target.edition_id, email_hash=email_hash(target.email),
        subscriber_id=target.subscriber.id if target.subscriber else None,
        kind=finding.kind.value, status=(finding.status or None) and finding.status[:_STATUS_LENGTH],
        reason=finding.reason or None, source=source, report_key=report_key, created_at=now)
    return session.execute(row.on_conflict_do_nothing(index_elements=["report_key", "email_hash"])
                           .returning(table.c.id)).first() is not None


def _act(session: Session, settings: Settings, kind: Kind, target: _Target, now: datetime,
         outcome: Outcome) -> None:
    if kind is Kind.HARD:
        outcome.suppressed += suppress(session, target.email, "bounce", note="bounce report")
    elif kind is Kind.SOFT:
        if _soft_bounces(session, target.email, now - timedelta(days=settings.soft_bounce_days)) \
                >= settings.soft_bounce_limit:
            outcome.suppressed += suppress(
                session, target.email, "soft-bounce",
                note=f"{settings.soft_bounce_limit} soft bounces within {settings.soft_bounce_days:g} days")
    elif kind is Kind.COMPLAINT:
        if target.subscriber is not None:
            outcome.unsubscribed += end_subscriptions(session, target.subscriber.id, None)
        outcome.suppressed += suppress(session, target.email, "complaint", note="complaint report")
    elif kind is Kind.UNSUBSCRIBE and target.subscriber is not None:
        # Without a good token: the list of the edition the mail answered, else all lists.
        list_id = target.list_id if target.token_valid else _edition_list(session, target.edition_id)
        outcome.unsubscribed += end_subscriptions(session, target.subscriber.id, list_id)
        if list_id is None:
            outcome.suppressed += suppress(session, target.email, "unsubscribed",
                                           actor=SUBSCRIBER, note="unsubscribe mail")


def _soft_bounces(session: Session, email: str, since: datetime) -> int:
    """Soft bounces of the address since then (this report's included)."""
    return session.exec(select(func.count()).select_from(Feedback).where(
        Feedback.email_hash == email_hash(email), Feedback.kind == Kind.SOFT.value,
        Feedback.created_at >= since)).one()


def _edition_list(session: Session, edition_id: int | None) -> int | None:
    edition = session.get(Edition, edition_id) if edition_id else None
    return edition.list_id if edition is not None else None
