"""Local-time delivery: each reader's due time, and the waves a send is released in.

A list with `deliver_at = "local"` sends one edition per slot, rendered once per variant
as always; its ledger rows carry `not_before`, the list's send time on the slot's date in
the reader's own zone (the list's zone when the reader has none). Batches claim only rows
whose time has come (ledger._pending), the edition stays `sending` until the last wave is
out, and the reconciler (every minute) queues each wave as it comes due.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlmodel import Session

from digest.models import (
    Delivery, DeliveryStatus, DigestList, Edition, EditionStatus, Subscriber, Subscription,
    SubscriptionStatus,
)
from digest.zones import local_send_time

D = Delivery.__table__
LOCAL = "local"


def is_local(digest_list: DigestList) -> bool:
    return digest_list.deliver_at == LOCAL


def reader_time(digest_list: DigestList, slot: datetime, zone: str | None) -> datetime:
    """When a reader in `zone` (None: the list's zone) gets the edition of `slot`."""
    return local_send_time(slot, digest_list.timezone, digest_list.send_time, zone or digest_list.timezone)


def reader_zones(session: Session, list_id: int) -> list[str | None]:
    """The distinct zones of the list's active readers (None: readers without one)."""
    return list(session.execute(
        select(Subscriber.timezone).join(Subscription, Subscription.subscriber_id == Subscriber.id)
        .where(Subscription.list_id == list_id, Subscription.status == SubscriptionStatus.ACTIVE)
        .distinct()).scalars())


def first_wave(digest_list: DigestList, slot: datetime, zones: list[str | None]) -> datetime:
    """When the edition of `slot` must start going out: the slot itself, or for a
    local-time list the send time in the earliest of its readers' `zones` (reader_zones),
    at most 26 h before the slot."""
    if not is_local(digest_list):
        return slot
    return min((reader_time(digest_list, slot, zone) for zone in zones), default=slot)


def set_due_times(session: Session, edition: Edition, digest_list: DigestList) -> None:
    """Each row of a local-time edition gets its reader's due time: one UPDATE per zone,
    however many readers (a few hundred zones exist)."""
    if not is_local(digest_list):
        return
    zones = session.execute(
        select(Subscriber.timezone).join(Delivery, Delivery.subscriber_id == Subscriber.id)
        .where(Delivery.edition_id == edition.id).distinct()).scalars().all()
    for zone in zones:
        in_zone = Subscriber.timezone.is_(None) if zone is None else Subscriber.timezone == zone
        session.execute(update(D).where(
            D.c.edition_id == edition.id, D.c.subscriber_id.in_(select(Subscriber.id).where(in_zone))
        ).values(not_before=reader_time(digest_list, edition.slot, zone)))


def later(session: Session, edition_id: int, now: datetime) -> tuple[int, datetime | None]:
    """How many rows wait for a later wave at `now`, and when the next wave is."""
    count, soonest = session.execute(select(func.count(), func.min(D.c.not_before)).where(
        D.c.edition_id == edition_id, D.c.status == DeliveryStatus.PENDING,
        D.c.not_before > now)).one()
    return count, soonest


def coming(session: Session, now: datetime, within: timedelta) -> dict[int, tuple[datetime, int]]:
    """Sending editions whose next wave comes after `now` but within `within`:
    {edition: (when, rows in that wave)}. The reconciler queues their batches with a
    countdown to that moment, so a wave goes at its time, not at the next reconcile."""
    soonest = session.execute(
        select(D.c.edition_id, func.min(D.c.not_before))
        .join(Edition.__table__, Edition.__table__.c.id == D.c.edition_id)
        .where(Edition.__table__.c.status == EditionStatus.SENDING, D.c.status == DeliveryStatus.PENDING,
               D.c.not_before > now, D.c.not_before <= now + within)
        .group_by(D.c.edition_id)).all()
    return {edition_id: (at, session.execute(select(func.count()).where(
                D.c.edition_id == edition_id, D.c.status == DeliveryStatus.PENDING,
                D.c.not_before == at)).scalar_one())
            for edition_id, at in soonest}


def due_from(session: Session, delivery_ids: list[int]) -> dict[int, datetime]:
    """The due time of those rows that have one (the retry window of a late wave's reader
    runs from their own time, not from the send's start hours earlier)."""
    if not delivery_ids:
        return {}
    return dict(session.execute(select(D.c.id, D.c.not_before).where(
        D.c.id.in_(delivery_ids), D.c.not_before.is_not(None))).all())
