"""Reading what the subscriber services sent: links out of real mails."""

from __future__ import annotations

import re
from email import message_from_bytes, policy

from digest.mail.message import OutgoingMessage


def parsed(message: OutgoingMessage):
    return message_from_bytes(message.data, policy=policy.SMTP)


def text_of(message) -> str:
    """The plain-text part of a parsed mail (an OutgoingMessage is parsed first)."""
    if isinstance(message, OutgoingMessage):
        message = parsed(message)
    return message.get_body(("plain",)).get_content()


def link(message, kind: str) -> str:
    """The first /<kind>/<token> URL in the mail's text part."""
    return re.search(rf"https?://\S+?/{kind}/[A-Za-z0-9._-]+", text_of(message)).group(0)


def path_of(url: str) -> str:
    return "/" + url.split("://", 1)[1].split("/", 1)[1]
