"""Double opt-in: sign up (pending, confirmation mail), confirm (active, welcome mail).

Whatever the case (new, pending, already active, suppressed, over the daily limit), the
sign-up answers the caller the same way; :class:`SignUpOutcome` is for logs and tests
only, never for the person at the form, so the form cannot tell who is subscribed.

Neither function sends mail: each hands a :class:`~digest.subscribers.notify.Notice` to
the `notify` callable it is given (a queue), so the answer never waits on the relay.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import update
from sqlmodel import Session, select

from digest.logs import event
from digest.models import DigestList, Subscriber, Subscription, SubscriptionStatus, Suppression, utcnow
from digest.settings import Settings
from digest.subscribers.addresses import clean_name, normalise_email
from digest.subscribers.bulk import upsert
from digest.subscribers.notify import Kind, Notice, Notify
from digest.subscribers.quota import give_back_confirmation_slot, take_confirmation_slot
from digest.subscribers.suppression import email_hash, lift_self_service, refuses_opt_in
from digest.subscribers.tokens import InvalidToken, Purpose, checked_claim
from digest.zones import check_zone

log = logging.getLogger(__name__)


class UnknownList(LookupError):
    """No list with that slug."""


class SignUpOutcome(StrEnum):
    CONFIRMATION_QUEUED = "confirmation queued"
    ALREADY_ACTIVE = "already active"
    SUPPRESSED = "suppressed"
    LIMITED = "daily confirmation limit reached"
    QUEUE_FULL = "confirmation not queued"


def list_by_slug(session: Session, slug: str) -> DigestList:
    digest_list = session.exec(select(DigestList).where(DigestList.slug == slug)).one_or_none()
    if digest_list is None:
        raise UnknownList(f"no list {slug!r}")
    return digest_list


def valid_topics(digest_list: DigestList, topics) -> list[str]:
    """The chosen topics that the list has, in the list's order (anything else is dropped)."""
    chosen = set(topics or ())
    return [section for section in digest_list.sections if section in chosen]


def sign_up(session: Session, settings: Settings, notify: Notify, *, list_slug: str,
            email: str, name: str | None = None, topics=(), timezone: str | None = None) -> SignUpOutcome:
    """Record a pending subscription and queue a confirmation, at most
    ``confirmations_per_day`` a day. Raises BadAddress, BadZone or UnknownList; commits.
    The time zone (an IANA name) is kept as None when it is the list's own: the reader
    then follows the list's zone.

    An unauthenticated sign-up never changes an existing subscriber (anyone can type
    anyone's address): the name and topics are kept only for a new subscription.
    """
    digest_list = list_by_slug(session, list_slug)
    address = normalise_email(email)
    zone = check_zone(timezone) if timezone else None
    zone = None if zone == digest_list.timezone else zone
    subscriber_id, outcome = _sign_up(session, settings, notify, digest_list, address, name, topics, zone)
    # Named by id: logs travel to places where addresses must not.
    event(log, "signup", "sign-up for list {list}: {outcome} (subscriber {subscriber})",
          list=digest_list.slug, subscriber=subscriber_id, outcome=outcome.value)
    return outcome


def _sign_up(session: Session, settings: Settings, notify: Notify, digest_list: DigestList,
             address: str, name: str | None, topics, zone: str | None) -> tuple[int | None, SignUpOutcome]:
    if refuses_opt_in(session, address):
        return None, SignUpOutcome.SUPPRESSED
    subscriber_id = _ensure_subscriber(session, address, clean_name(name), zone)
    session.exec(upsert(session)(Subscription).values(
        subscriber_id=subscriber_id, list_id=digest_list.id, status=SubscriptionStatus.PENDING,
        topics=valid_topics(digest_list, topics), created_at=utcnow(), confirmations_sent=0,
    ).on_conflict_do_nothing(index_elements=["subscriber_id", "list_id"]))
    subscription = session.exec(select(Subscription).where(
        Subscription.subscriber_id == subscriber_id, Subscription.list_id == digest_list.id)).one()
    if subscription.status == SubscriptionStatus.ACTIVE:
        session.commit()
        return subscriber_id, SignUpOutcome.ALREADY_ACTIVE
    allowed = take_confirmation_slot(session, subscription.id, settings.confirmations_per_day)
    session.commit()
    if not allowed:
        return subscriber_id, SignUpOutcome.LIMITED
    if not notify(Notice(Kind.CONFIRM, subscriber_id, digest_list.id)):
        give_back_confirmation_slot(session, subscriber_id, digest_list.id)
        session.commit()
        return subscriber_id, SignUpOutcome.QUEUE_FULL
    return subscriber_id, SignUpOutcome.CONFIRMATION_QUEUED


def _ensure_subscriber(session: Session, address: str, name: str | None, zone: str | None) -> int:
    # INSERT ... ON CONFLICT: two sign-ups racing for one new address both succeed.
    session.exec(upsert(session)(Subscriber).values(email=address, name=name, timezone=zone, created_at=utcnow())
                 .on_conflict_do_nothing(index_elements=["email"]))
    return session.exec(select(Subscriber.id).where(Subscriber.email == address)).one()


def _left_since(session: Session, subscription: Subscription, email: str, signed_at: datetime) -> bool:
    """Whether the subscription ended, or the address was suppressed, after `signed_at`.
    Compared in whole seconds, as the token's time is: within the second it was signed,
    the link still works (the sign-up that made it may have followed an unsubscribe)."""
    suppressed_at = session.exec(select(Suppression.created_at).where(
        Suppression.email_hash == email_hash(email))).first()
    return any(moment is not None and moment.replace(microsecond=0) > signed_at
               for moment in (subscription.unsubscribed_at, suppressed_at))


@dataclass(frozen=True)
class Confirmed:
    subscriber: Subscriber
    digest_list: DigestList
    newly: bool   # False when it was already active (a second click): no second welcome


def confirm(session: Session, settings: Settings, notify: Notify, token: str) -> Confirmed:
    """Activate the subscription a confirmation token names and queue the welcome mail.

    Raises InvalidToken (tampered, expired, other purpose, the subscriber gone, their id
    somebody else's now, or the address unsubscribed or suppressed since the link was made:
    an old confirmation mail must not undo a later unsubscribe)."""
    subscriber, claim = checked_claim(session, settings.secret_key, Purpose.CONFIRM, token)
    list_id = claim.list_id
    subscription = None if subscriber is None else session.exec(select(Subscription).where(
        Subscription.subscriber_id == subscriber.id, Subscription.list_id == list_id)).one_or_none()
    if subscription is None:
        raise InvalidToken("this link is no longer valid")
    digest_list = session.get(DigestList, list_id)
    if refuses_opt_in(session, subscriber.email):
        raise InvalidToken("this address can no longer be subscribed")
    if _left_since(session, subscription, subscriber.email, claim.signed_at):
        raise InvalidToken("this link was made before the address was unsubscribed: "
                           "sign up again for a new one")
    table = Subscription.__table__
    # Conditional, so two clicks racing send one welcome between them.
    activated = session.execute(
        update(table).where(table.c.id == subscription.id,
                            table.c.status != SubscriptionStatus.ACTIVE)
        .values(status=SubscriptionStatus.ACTIVE, confirmed_at=utcnow(), unsubscribed_at=None)
    ).rowcount == 1
    if not activated:
        session.commit()
        return Confirmed(subscriber, digest_list, newly=False)
    lift_self_service(session, subscriber.email)
    session.commit()
    if not notify(Notice(Kind.WELCOME, subscriber.id, digest_list.id)):
        # The subscription stands; a missing welcome is not worth failing the click for.
        log.warning("welcome mail to subscriber %s not queued", subscriber.id)
    return Confirmed(subscriber, digest_list, newly=True)
