"""The delivery ledger: one row per (edition, subscriber), and every state change on it.

Each function is one short SQL statement so that any number of workers can run batches of
the same edition at once: claiming is atomic (SKIP LOCKED on PostgreSQL; SQLite serialises
writers), a row is only sent by the batch whose claim token it carries, and each outcome
is committed as it happens, so a killed worker loses at most the message in flight.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, func, insert, literal, or_, select, update
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


def _due(edition_id: int, now: datetime):
    return and_(D.c.edition_id == edition_id, or_(
        D.c.status == DeliveryStatus.PENDING,
        and_(D.c.status == DeliveryStatus.DEFERRED, D.c.next_attempt_at <= now),
    ))


def count_due(session: Session, edition_id: int) -> int:
    return session.execute(select(func.count()).where(_due(edition_id, utcnow()))).scalar_one()


def claim(session: Session, edition_id: int, limit: int, lease_seconds: int) -> tuple[str, list[tuple[int, int]]]:
    """Take up to `limit` due rows for one batch: (claim token, [(delivery id, subscriber id)])."""
    now = utcnow()
    token = secrets.token_hex(8)
    candidates = select(D.c.id).where(_due(edition_id, now)).order_by(D.c.id).limit(limit)
    if is_postgres(session):
        candidates = candidates.with_for_update(skip_locked=True)
    statement = (
        update(D).where(D.c.id.in_(candidates.scalar_subquery()))
        .values(status=DeliveryStatus.CLAIMED, claim_token=token,
                lease_until=now + timedelta(seconds=lease_seconds))
        .returning(D.c.id, D.c.subscriber_id)
    )
    rows = sorted(tuple(row) for row in session.execute(statement).all())
    session.commit()
    return token, rows


def begin_attempt(session: Session, delivery_id: int, token: str, list_id: int) -> bool:
    """Mark one claimed row in flight, if it is still ours, the edition is still sending and
    the subscriber is still subscribed. False means: do not send it (see :func:`why_not`)."""
    still_sending = exists().where(E.c.id == D.c.edition_id, E.c.status == EditionStatus.SENDING)
    still_subscribed = exists().where(
        S.c.subscriber_id == D.c.subscriber_id, S.c.list_id == list_id,
        S.c.status == SubscriptionStatus.ACTIVE)
    result = session.execute(
        update(D).where(D.c.id == delivery_id, D.c.claim_token == token,
                        D.c.status == DeliveryStatus.CLAIMED, still_sending, still_subscribed)
        .values(status=DeliveryStatus.SENDING, attempts=D.c.attempts + 1)
    )
    session.commit()
    return result.rowcount == 1


def finish_attempt(session: Session, delivery_id: int, token: str, status: DeliveryStatus, *,
                   error: str | None = None, next_attempt_at: datetime | None = None) -> None:
    values = {"status": status, "last_error": error, "next_attempt_at": next_attempt_at,
              "claim_token": None, "lease_until": None}
    if status == DeliveryStatus.SENT:
        values["sent_at"] = utcnow()
    session.execute(update(D).where(D.c.id == delivery_id, D.c.claim_token == token).values(**values))
    session.commit()


def mark(session: Session, delivery_ids: list[int], status: DeliveryStatus, reason: str) -> None:
    """Settle rows that will not be attempted (unsubscribed, suppressed, cancelled)."""
    if delivery_ids:
        session.execute(update(D).where(D.c.id.in_(delivery_ids), D.c.status.in_(OPEN_STATES))
                        .values(status=status, last_error=reason, claim_token=None, lease_until=None))
        session.commit()


def release(session: Session, token: str) -> None:
    """Give a batch's untried rows back (pause): another batch takes them on resume."""
    session.execute(update(D).where(D.c.claim_token == token, D.c.status == DeliveryStatus.CLAIMED)
                    .values(status=DeliveryStatus.PENDING, claim_token=None, lease_until=None))
    session.commit()


def expire_leases(session: Session, edition_id: int) -> tuple[int, int]:
    """After a batch died: untried rows go back to pending; the in-flight one becomes unknown."""
    now = utcnow()
    expired = and_(D.c.edition_id == edition_id, D.c.lease_until < now)
    back = session.execute(update(D).where(expired, D.c.status == DeliveryStatus.CLAIMED)
                           .values(status=DeliveryStatus.PENDING, claim_token=None, lease_until=None))
    lost = session.execute(update(D).where(expired, D.c.status == DeliveryStatus.SENDING)
                           .values(status=DeliveryStatus.UNKNOWN, claim_token=None, lease_until=None,
                                   last_error="worker lost while the message was in flight"))
    session.commit()
    return back.rowcount, lost.rowcount


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
