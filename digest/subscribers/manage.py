"""What a subscriber does through the signed links in every mail: unsubscribe, change
preferences, download their data, delete themself.

The token in the link is the authority; these functions take the id of the subscriber
it was made for (`tokens.subscriber_for` checks that the id is still theirs).
Unsubscribing only sets the subscription's status: the send ledger re-checks it before
every message, so a send in progress honours it at once.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, update
from sqlmodel import Session, select

from digest.models import (
    Click, Delivery, DigestList, Edition, Subscriber, Subscription, SubscriptionStatus, utcnow,
)
from digest.subscribers.addresses import clean_name
from digest.subscribers.signup import valid_topics
from digest.subscribers.suppression import lift_self_service, suppress
from digest.zones import check_zone

S = Subscription.__table__


def unsubscribe(session: Session, subscriber_id: int, list_id: int | None) -> bool:
    """Leave one list, or every list (``list_id=None``: the address is then suppressed).

    Idempotent; True when something changed. Commits."""
    subscriber = session.get(Subscriber, subscriber_id)
    if subscriber is None:      # erased already: nothing left to unsubscribe
        return False
    changed = end_subscriptions(session, subscriber_id, list_id)
    if list_id is None:
        suppress(session, subscriber.email, "unsubscribed")
    session.commit()
    return changed


def end_subscriptions(session: Session, subscriber_id: int, list_id: int | None) -> bool:
    """Set one subscription (or, with ``list_id=None``, every one) to unsubscribed, without
    suppressing or committing: for callers that suppress for a reason of their own in
    their own transaction. True when a subscription changed."""
    where = [S.c.subscriber_id == subscriber_id, S.c.status != SubscriptionStatus.UNSUBSCRIBED]
    if list_id is not None:
        where.append(S.c.list_id == list_id)
    return session.execute(update(S).where(*where).values(
        status=SubscriptionStatus.UNSUBSCRIBED, unsubscribed_at=utcnow())).rowcount > 0


@dataclass(frozen=True)
class ListChoice:
    digest_list: DigestList
    subscribed: bool
    topics: list[str]


def preferences(session: Session, subscriber_id: int) -> tuple[Subscriber, list[ListChoice]] | None:
    """The subscriber and every list with their current choice, or None if erased."""
    subscriber = session.get(Subscriber, subscriber_id)
    if subscriber is None:
        return None
    mine = {s.list_id: s for s in session.exec(
        select(Subscription).where(Subscription.subscriber_id == subscriber_id)).all()}
    choices = []
    for digest_list in session.exec(select(DigestList).order_by(DigestList.name)).all():
        subscription = mine.get(digest_list.id)
        active = subscription is not None and subscription.status == SubscriptionStatus.ACTIVE
        choices.append(ListChoice(digest_list, active, list(subscription.topics) if subscription else []))
    return subscriber, choices


def update_preferences(session: Session, subscriber_id: int, *, name: str | None,
                       lists: set[int], topics: dict[int, list[str]], timezone: str | None = None) -> None:
    """Set the display name, the time zone (None: each list's own), the lists subscribed
    to and the topics per list. Raises BadZone before changing anything; commits.

    The signed link proves the address, so a list chosen here is active at once (no
    second confirmation) and lifts a suppression the person made themself."""
    zone = check_zone(timezone) if timezone else None
    subscriber = session.get(Subscriber, subscriber_id)
    if subscriber is None:
        return
    subscriber.name, subscriber.timezone = clean_name(name), zone
    now = utcnow()
    current = {s.list_id: s for s in session.exec(
        select(Subscription).where(Subscription.subscriber_id == subscriber_id)).all()}
    for digest_list in session.exec(select(DigestList)).all():
        subscription = current.get(digest_list.id)
        chosen = valid_topics(digest_list, topics.get(digest_list.id, ()))
        if digest_list.id in lists:
            if subscription is None:
                subscription = Subscription(subscriber_id=subscriber_id, list_id=digest_list.id)
                session.add(subscription)
            if subscription.status != SubscriptionStatus.ACTIVE:
                subscription.status = SubscriptionStatus.ACTIVE
                subscription.confirmed_at, subscription.unsubscribed_at = now, None
            subscription.topics = chosen
        elif subscription is not None and subscription.status != SubscriptionStatus.UNSUBSCRIBED:
            subscription.status = SubscriptionStatus.UNSUBSCRIBED
            subscription.unsubscribed_at = now
    if lists:
        lift_self_service(session, subscriber.email)
    session.commit()


def export_data(session: Session, subscriber_id: int) -> dict | None:
    """Everything kept about one subscriber, as JSON-ready data (the right of access)."""
    subscriber = session.get(Subscriber, subscriber_id)
    if subscriber is None:
        return None
    lists = {d.id: d.slug for d in session.exec(select(DigestList)).all()}
    subscriptions = session.exec(select(Subscription).where(
        Subscription.subscriber_id == subscriber_id).order_by(Subscription.id)).all()
    deliveries = session.exec(
        select(Delivery, Edition).join(Edition, Edition.id == Delivery.edition_id)
        .where(Delivery.subscriber_id == subscriber_id).order_by(Delivery.id)).all()
    clicks = session.exec(select(Click).where(Click.subscriber_id == subscriber_id)
                          .order_by(Click.id)).all()
    return {
        "email": subscriber.email, "name": subscriber.name, "timezone": subscriber.timezone,
        "created_at": subscriber.created_at.isoformat(),
        "subscriptions": [{
            "list": lists[s.list_id], "status": s.status, "topics": s.topics,
            "created_at": s.created_at.isoformat(), "confirmed_at": _iso(s.confirmed_at),
            "unsubscribed_at": _iso(s.unsubscribed_at)} for s in subscriptions],
        "deliveries": [{
            "list": lists[edition.list_id], "edition": edition.id, "subject": edition.subject,
            "status": delivery.status, "sent_at": _iso(delivery.sent_at)}
            for delivery, edition in deliveries],
        "clicks": [{"edition": c.edition_id, "story": c.story_id, "at": c.created_at.isoformat()}
                   for c in clicks],
    }


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def erase(session: Session, subscriber_id: int) -> bool:
    """Delete the subscriber; only a hash of the address stays, on the suppression list.

    Subscriptions and delivery rows go with the subscriber (ON DELETE CASCADE); clicks
    lose their link to them. Commits; False if there was nobody to delete."""
    subscriber = session.get(Subscriber, subscriber_id)
    if subscriber is None:
        return False
    suppress(session, subscriber.email, "erased")
    session.expunge(subscriber)
    session.execute(delete(Subscriber.__table__).where(Subscriber.__table__.c.id == subscriber_id))
    session.commit()
    return True
