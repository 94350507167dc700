"""Sending the transactional mails: confirm, welcome, goodbye.

One recipient each, so the message is built with the standard library's ``EmailMessage``
(milliseconds, irrelevant at this volume) instead of the per-variant ``MailTemplate``
machinery of the digest. Every header value that could carry user input goes through
``header_safe`` first, and the SMTP policy refuses a CR or LF in a header besides.
"""

from __future__ import annotations

from email import policy
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid, parseaddr

from digest.mail.backends.base import MailBackend
from digest.mail.message import OutgoingMessage, header_safe
from digest.models import DigestList, Subscriber
from digest.render.digest import Rendered, personal_values
from digest.render.transactional import render_transactional
from digest.settings import Settings
from digest.subscribers.tokens import Purpose, make_token


def build_message(settings: Settings, rendered: Rendered, *, to_email: str,
                  to_name: str | None = None) -> OutgoingMessage:
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
    return OutgoingMessage(from_address, header_safe(to_email), message["Message-ID"],
                           message.as_bytes())


def send_confirmation(settings: Settings, backend: MailBackend, subscriber: Subscriber,
                      digest_list: DigestList) -> None:
    """The double opt-in mail. Only the address comes from the sign-up: not even the name."""
    links = personal_values(settings, subscriber, digest_list.id)
    token = make_token(settings.secret_key, Purpose.CONFIRM, subscriber.id, digest_list.id)
    rendered = render_transactional(
        settings, "confirm", subject=f"Confirm your subscription to {digest_list.name}",
        preheader="One click and you are in.", list_name=digest_list.name,
        preferences_url=links.preferences_url, unsubscribe_url=links.unsubscribe_url,
        email=subscriber.email, confirm_url=f"{settings.public_url}/confirm/{token}")
    _send(backend, build_message(settings, rendered, to_email=subscriber.email))


def send_welcome(settings: Settings, backend: MailBackend, subscriber: Subscriber,
                 digest_list: DigestList) -> None:
    links = personal_values(settings, subscriber, digest_list.id)
    rendered = render_transactional(
        settings, "welcome", subject=f"Welcome to {digest_list.name}",
        preheader="Your subscription is confirmed.", list_name=digest_list.name,
        preferences_url=links.preferences_url, unsubscribe_url=links.unsubscribe_url,
        greeting=links.greeting, archive_url=f"{settings.public_url}/archive/{digest_list.slug}")
    _send(backend, build_message(settings, rendered, to_email=subscriber.email,
                                 to_name=subscriber.name))


def send_goodbye(settings: Settings, backend: MailBackend, subscriber: Subscriber,
                 list_id: int | None, list_name: str) -> None:
    links = personal_values(settings, subscriber, list_id)
    rendered = render_transactional(
        settings, "goodbye", subject=f"You are unsubscribed from {list_name}",
        preheader="No more editions will come.", list_name=list_name,
        preferences_url=links.preferences_url, unsubscribe_url=links.unsubscribe_url)
    _send(backend, build_message(settings, rendered, to_email=subscriber.email,
                                 to_name=subscriber.name))


def _send(backend: MailBackend, message: OutgoingMessage) -> None:
    with backend:
        backend.send(message)
