"""The transactional mails (confirm, welcome, goodbye), sent from ids by a queue's worker.

A request never sends mail: it hands a :class:`Notice` (kind and ids, nothing else) to a
:data:`Notify` callable, and a worker (a Celery task, or the embedded mode's thread; see
``digest.notices``) calls :func:`attempt`, which looks the people up again, renders and
sends. So the mail reflects the state when it goes out: a confirmation for a subscription
that is no longer pending is not sent.

One recipient each, so the message is built with the standard library's ``EmailMessage``
(milliseconds, irrelevant at this volume) instead of the per-variant ``MailTemplate``
machinery of the digest. Every header value that could carry user input goes through
``header_safe`` first, and the SMTP policy refuses a CR or LF in a header besides.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid, parseaddr
from enum import StrEnum

from sqlmodel import Session, select

from digest.bounces.verp import envelope_sender
from digest.mail.backends.base import MailBackend
from digest.mail.errors import Bounce, MailError, TemporaryFailure, UnknownOutcome
from digest.mail.message import OutgoingMessage, header_safe
from digest.models import DigestList, Subscriber, Subscription, SubscriptionStatus
from digest.render.digest import Rendered
from digest.subscribers.links import personal_values
from digest.render.transactional import render_transactional
from digest.settings import Settings
from digest.subscribers.quota import give_back_confirmation_slot
from digest.subscribers.suppression import refuses_opt_in, suppress
from digest.subscribers.tokens import Purpose, make_token

log = logging.getLogger(__name__)

# The retry policy of every queue's worker: a temporary failure (the relay is down or says
# 4xx) is retried up to RETRIES times, after up to 2, 4, 8 ... seconds, at most 10 minutes
# (with full jitter, so notices queued together do not all hit a recovering relay at once):
# quick while a relay restarts, then spread over 25 minutes on average (47 at most). Every
# delay stays far below the broker's visibility timeout (digest.celery_app).
RETRIES = 12
RETRY_BASE_SECONDS = 2
RETRY_MAX_SECONDS = 600


class Kind(StrEnum):
    CONFIRM = "confirm"
    WELCOME = "welcome"
    GOODBYE = "goodbye"


@dataclass(frozen=True)
class Notice:
    kind: Kind
    subscriber_id: int
    list_id: int | None     # None: a goodbye from every list


#: Hands a notice to a worker; False when it could not be queued (full, or no broker).
Notify = Callable[[Notice], bool]


def retry_delay(retries: int) -> float:
    """Seconds before the next try, after `retries` retries: Celery's ``retry_backoff``
    with ``retry_jitter`` and these constants."""
    return random.uniform(0, min(RETRY_MAX_SECONDS, RETRY_BASE_SECONDS * 2 ** retries))


def attempt(session: Session, settings: Settings, backend: MailBackend, notice: Notice, *,
            last: bool) -> None:
    """One try at a notice. Raises TemporaryFailure for the worker to try again later,
    unless this was the `last` try: then, as when the relay refuses it for good, the notice
    is dropped and a confirmation gives its daily slot back (a bounce also suppresses the
    address). A message that may have gone out (the connection broke awaiting the reply) is
    neither retried nor given back."""
    try:
        deliver(session, settings, backend, notice)
    except UnknownOutcome as exc:
        log.warning("%s mail to subscriber %s may not have arrived: %s",
                    notice.kind, notice.subscriber_id, exc)
    except TemporaryFailure:
        if not last:
            raise
        _give_up(session, notice, "the relay kept failing")
    except Bounce as exc:
        _give_up(session, notice, f"bounced: {exc}")
        # As for the digest: the mailbox does not exist, so nothing more is sent to it.
        suppress(session, session.get(Subscriber, notice.subscriber_id).email, "bounce")
    except MailError as exc:
        _give_up(session, notice, f"refused: {exc}")


def _give_up(session: Session, notice: Notice, why: str) -> None:
    log.warning("%s mail to subscriber %s not sent: %s", notice.kind, notice.subscriber_id, why)
    if notice.kind == Kind.CONFIRM:
        give_back_confirmation_slot(session, notice.subscriber_id, notice.list_id)


def deliver(session: Session, settings: Settings, backend: MailBackend, notice: Notice) -> bool:
    """Render and send the notice if it still applies; False when it no longer does (the
    subscriber is gone, or the subscription moved on). Raises MailError."""
    subscriber = session.get(Subscriber, notice.subscriber_id)
    digest_list = session.get(DigestList, notice.list_id) if notice.list_id is not None else None
    if (subscriber is None or (notice.list_id is not None and digest_list is None)
            or not _still_due(session, notice, subscriber.email)):
        log.info("%s mail to subscriber %s no longer due", notice.kind, notice.subscriber_id)
        return False
    rendered = _RENDER[notice.kind](settings, subscriber, digest_list)
    # The confirmation goes to an address anyone may have typed: no user-entered name.
    name = None if notice.kind == Kind.CONFIRM else subscriber.name
    message = build_message(settings, rendered, to_email=subscriber.email, to_name=name,
                            subscriber_id=subscriber.id)
    with backend:
        backend.send(message)
    return True


def _still_due(session: Session, notice: Notice, email: str) -> bool:
    query = select(Subscription.status).where(Subscription.subscriber_id == notice.subscriber_id)
    if notice.list_id is not None:
        query = query.where(Subscription.list_id == notice.list_id)
    statuses = set(session.exec(query).all())
    if notice.kind == Kind.CONFIRM:
        return statuses == {SubscriptionStatus.PENDING} and not refuses_opt_in(session, email)
    if notice.kind == Kind.WELCOME:
        return statuses == {SubscriptionStatus.ACTIVE}
    return SubscriptionStatus.ACTIVE not in statuses    # a goodbye, unless they came back


def list_name(settings: Settings, digest_list: DigestList | None) -> str:
    """What the person left: one list, or (None) all of them."""
    return digest_list.name if digest_list else f"every {settings.brand_name} list"


def _confirmation(settings: Settings, subscriber: Subscriber, digest_list: DigestList) -> Rendered:
    """The double opt-in mail. Only the address comes from the sign-up: not even the name."""
    links = personal_values(settings, subscriber, digest_list.id)
    token = make_token(settings.secret_key, Purpose.CONFIRM, subscriber, digest_list.id)
    return render_transactional(
        settings, "confirm", subject=f"Confirm your subscription to {digest_list.name}",
        preheader="One click and you are in.", list_name=digest_list.name,
        preferences_url=links.preferences_url, unsubscribe_url=links.unsubscribe_url,
        email=subscriber.email, confirm_url=f"{settings.public_url}/confirm/{token}")


def _welcome(settings: Settings, subscriber: Subscriber, digest_list: DigestList) -> Rendered:
    links = personal_values(settings, subscriber, digest_list.id)
    return render_transactional(
        settings, "welcome", subject=f"Welcome to {digest_list.name}",
        preheader="Your subscription is confirmed.", list_name=digest_list.name,
        preferences_url=links.preferences_url, unsubscribe_url=links.unsubscribe_url,
        greeting=links.greeting, archive_url=f"{settings.public_url}/archive/{digest_list.slug}")


def _goodbye(settings: Settings, subscriber: Subscriber, digest_list: DigestList | None) -> Rendered:
    name = list_name(settings, digest_list)
    links = personal_values(settings, subscriber, digest_list.id if digest_list else None)
    return render_transactional(
        settings, "goodbye", subject=f"You are unsubscribed from {name}",
        preheader="No more editions will come.", list_name=name,
        preferences_url=links.preferences_url, unsubscribe_url=links.unsubscribe_url)


_RENDER = {Kind.CONFIRM: _confirmation, Kind.WELCOME: _welcome, Kind.GOODBYE: _goodbye}


def build_message(settings: Settings, rendered: Rendered, *, to_email: str,
                  to_name: str | None = None, subscriber_id: int | None = None) -> OutgoingMessage:
    """A transactional mail; with the subscriber's id its envelope sender is their VERP
    return path (no edition), so a bounce of it counts like a bounce of a digest."""
    from_name, from_address = parseaddr(settings.from_email)
    message = EmailMessage(policy=policy.SMTP)
    message["From"] = formataddr((header_safe(from_name), from_address))
    message["To"] = formataddr((header_safe(to_name or ""), header_safe(to_email)))
    message["Subject"] = header_safe(rendered.subject)
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid("digest", domain=settings.mail_domain)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(rendered.text, cte="quoted-printable")
    message.add_alternative(rendered.html, subtype="html", cte="quoted-printable")
    sender = (subscriber_id is not None and envelope_sender(settings, None, subscriber_id)) or from_address
    return OutgoingMessage(sender, header_safe(to_email), message["Message-ID"],
                           message.as_bytes())
