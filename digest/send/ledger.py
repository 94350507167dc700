"""The delivery ledger: one row per (edition, subscriber), and every state change on it.

Each function is one short SQL statement so that any number of workers can run batches of
the same edition at once: claiming is atomic (SKIP LOCKED on PostgreSQL; SQLite serialises
writers), a row is only sent by the batch whose claim token it carries, and each outcome
is committed as it happens, so a killed worker loses at most the message in flight.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, func, insert, literal, or_, select, text, update
from sqlmodel import Session

from digest.db import is_postgres
from digest.models import (
    Delivery, DeliveryStatus, Edition, EditionStatus, Subscription, SubscriptionStatus, utcnow,
)

D = Delivery.__table__
E = Edition.__table__
S = Subscription.__table__

#: States in which a row may still be sent.
OPEN_STATES = (DeliveryStatus.PENDING, DeliveryStatus.CLAIMED, DeliveryStatus.SENDING,
               DeliveryStatus.DEFERRED)


def create_rows(session: Session, edition_id: int, list_id: int) -> int:
    """One pending row per active subscriber of the list, set-wise; existing rows are kept.

    Returns how many rows are due now (the driver's rowcount for INSERT ... SELECT is not
    reliable across backends)."""
    already = select(D.c.subscriber_id).where(D.c.edition_id == edition_id)
    rows = select(
        literal(edition_id), S.c.subscriber_id, literal(DeliveryStatus.PENDING.value),
        literal(0), literal("all"), literal(utcnow(), D.c.created_at.type),
    ).where(S.c.list_id == list_id, S.c.status == SubscriptionStatus.ACTIVE,
            S.c.subscriber_id.not_in(already))
    statement = insert(D).from_select(
        ["edition_id", "subscriber_id", "status", "attempts", "variant_key", "created_at"], rows)
    session.execute(statement)
    return count_due(session, edition_id)


def assign_variants(session: Session, edition_id: int, groups: dict[str, list[int]],
                    chunk: int = 1000) -> None:
    """Give the edition's rows of these subscribers their variant key (rows start as "all")."""
    if is_postgres(session):
        # One statement over two arrays: tens of thousands of keys without a bound parameter each.
        pairs = [(sid, key) for key, sids in groups.items() for sid in sids]
        for start in range(0, len(pairs), 50 * chunk):
            part = pairs[start:start + 50 * chunk]
            session.execute(text(
                "UPDATE delivery SET variant_key = v.key FROM unnest(CAST(:sids AS integer[]), "
                "CAST(:keys AS text[])) AS v(sid, key) "
                "WHERE delivery.edition_id = :edition AND delivery.subscriber_id = v.sid"),
                {"sids": [sid for sid, _ in part], "keys": [key for _, key in part], "edition": edition_id})
        return
    for key, subscriber_ids in groups.items():
        for start in range(0, len(subscriber_ids), chunk):
            session.execute(update(D).where(
                D.c.edition_id == edition_id,
                D.c.subscriber_id.in_(subscriber_ids[start:start + chunk])).values(variant_key=key))


def variant_keys(session: Session, edition_id: int) -> list[str]:
    return list(session.execute(select(D.c.variant_key).where(D.c.edition_id == edition_id)
                                .distinct().order_by(D.c.variant_key)).scalars())


def _pending(edition_id: int, now: datetime):
    """Rows never tried whose time has come: a local-time send holds later waves back, and
    a subject test the rest of its readers until its window closes."""
    return and_(D.c.edition_id == edition_id, D.c.status == DeliveryStatus.PENDING,
                or_(D.c.not_before.is_(None), D.c.not_before <= now),
                or_(D.c.subject_hold_until.is_(None), D.c.subject_hold_until <= now))


def _retry_due(edition_id: int, now: datetime):
    return and_(D.c.edition_id == edition_id, D.c.status == DeliveryStatus.DEFERRED,
                D.c.next_attempt_at <= now)


def _due(edition_id: int, now: datetime):
    return or_(_pending(edition_id, now), _retry_due(edition_id, now))


def count_due(session: Session, edition_id: int, now: datetime | None = None) -> int:
    """Rows a batch may take at `now` (default: the clock)."""
    return session.execute(select(func.count()).where(_due(edition_id, now or utcnow()))).scalar_one()


def claim(session: Session, edition_id: int, limit: int, lease_seconds: int,
          now: datetime | None = None) -> tuple[str, list[tuple[int, int, str, int, str | None]]]:
    """Take up to `limit` rows due at `now` (default: the clock) for one batch: (claim
    token, [(delivery id, subscriber id, variant key, attempts so far, subject test group)]).

    Rows never tried come first, then deferred rows now due: during an outage the same
    deferred rows coming due again must not keep the untried ones waiting. The lease runs
    on the clock whatever `now` says: it is about the batch's process staying alive."""
    lease_until = utcnow() + timedelta(seconds=lease_seconds)
    now = now or utcnow()
    token = secrets.token_hex(8)
    rows = []
    for due in (_pending(edition_id, now), _retry_due(edition_id, now)):
        if len(rows) == limit:
            break
        candidates = select(D.c.id).where(due).order_by(D.c.id).limit(limit - len(rows))
        if is_postgres(session):
            candidates = candidates.with_for_update(skip_locked=True)
        rows += session.execute(
            update(D).where(D.c.id.in_(candidates.scalar_subquery()))
            .values(status=DeliveryStatus.CLAIMED, claim_token=token, lease_until=lease_until)
            .returning(D.c.id, D.c.subscriber_id, D.c.variant_key, D.c.attempts,
                       D.c.subject_variant)).all()
    session.commit()
    return token, sorted(tuple(row) for row in rows)


def mark(session: Session, delivery_ids: list[int], status: DeliveryStatus, reason: str,
         token: str | None = None) -> None:
    """Settle rows that will not be attempted (unsubscribed, suppressed). With a token, only
    rows the batch still holds."""
    if delivery_ids:
        condition = D.c.id.in_(delivery_ids) & D.c.status.in_(OPEN_STATES)
        if token is not None:
            condition &= D.c.claim_token == token
        session.execute(update(D).where(condition)
                        .values(status=status, last_error=reason, claim_token=None, lease_until=None))
        session.commit()


def defer_claimed(session: Session, token: str, reason: str, retry_at: datetime) -> int:
    """A batch's untried rows wait for `retry_at` with the error (the relay is out of reach):
    never left claimed until the lease runs out."""
    result = session.execute(update(D).where(D.c.claim_token == token, D.c.status == DeliveryStatus.CLAIMED)
                             .values(status=DeliveryStatus.DEFERRED, last_error=reason, outcome_at=utcnow(),
                                     next_attempt_at=retry_at, claim_token=None, lease_until=None))
    session.commit()
    return result.rowcount


def release(session: Session, token: str) -> None:
    """Give a batch's untried rows back (pause, server trouble): a later batch takes them."""
    session.execute(update(D).where(D.c.claim_token == token, D.c.status == DeliveryStatus.CLAIMED)
                    .values(status=DeliveryStatus.PENDING, claim_token=None, lease_until=None))
    session.commit()


def expire_leases(session: Session, edition_id: int | None = None) -> tuple[int, int]:
    """After a batch died: untried rows go back to pending; the in-flight one becomes unknown.

    Without an edition: every edition (a paused or cancelled one may hold dead claims too)."""
    now = utcnow()
    expired = D.c.lease_until < now
    if edition_id is not None:
        expired = and_(D.c.edition_id == edition_id, expired)
    back = session.execute(update(D).where(expired, D.c.status == DeliveryStatus.CLAIMED)
                           .values(status=DeliveryStatus.PENDING, claim_token=None, lease_until=None))
    lost = session.execute(update(D).where(expired, D.c.status == DeliveryStatus.SENDING)
                           .values(status=DeliveryStatus.UNKNOWN, claim_token=None, lease_until=None,
                                   last_error="worker lost while the message was in flight"))
    session.commit()
    return back.rowcount, lost.rowcount


def settle_open(session: Session, edition_id: int, status: DeliveryStatus, reason: str,
                claimed: bool = True) -> int:
    """Every row not yet tried or waiting for a retry gets `status` (cancel). A row in flight
    is left to its batch, which records what really happened; with `claimed=False` so are
    the rows a batch still holds."""
    states = (DeliveryStatus.PENDING, DeliveryStatus.DEFERRED) + ((DeliveryStatus.CLAIMED,) if claimed else ())
    result = session.execute(
        update(D).where(D.c.edition_id == edition_id, D.c.status.in_(states))
        .values(status=status, last_error=reason, claim_token=None, lease_until=None,
                next_attempt_at=None))
    return result.rowcount


def reopen(session: Session, edition_id: int, states: tuple[DeliveryStatus, ...]) -> int:
    """Rows in `states` become pending again, due now (retry-failed). Never `sent`."""
    assert DeliveryStatus.SENT not in states
    result = session.execute(
        update(D).where(D.c.edition_id == edition_id, D.c.status.in_(states))
        .values(status=DeliveryStatus.PENDING, next_attempt_at=None, claim_token=None,
                lease_until=None))
    return result.rowcount


def sent_since(session: Session, edition_id: int, since: datetime) -> tuple[int, datetime | None]:
    """How many rows were sent from `since` on, and when the first of them was."""
    count, first = session.execute(select(func.count(), func.min(D.c.sent_at)).where(
        D.c.edition_id == edition_id, D.c.status == DeliveryStatus.SENT,
        D.c.sent_at >= since)).one()
    return count, first


def counts(session: Session, edition_id: int) -> dict[str, int]:
    rows = session.execute(select(D.c.status, func.count()).where(D.c.edition_id == edition_id)
                           .group_by(D.c.status)).all()
    return {status: count for status, count in rows}


def finish_edition(session: Session, edition_id: int) -> bool:
    """Sending -> sent, once no row is left to try."""
    open_rows = exists().where(D.c.edition_id == edition_id, D.c.status.in_(OPEN_STATES))
    result = session.execute(
        update(E).where(E.c.id == edition_id, E.c.status == EditionStatus.SENDING, ~open_rows)
        .values(status=EditionStatus.SENT, sent_at=utcnow()))
    session.commit()
    return result.rowcount == 1
