"""Sending what the subscriber services queue, and reading links out of the mails."""

from __future__ import annotations

import re
from email import message_from_bytes, policy

from digest.db import session_scope
from digest.mail.backends.memory import MemoryBackend
from digest.mail.message import OutgoingMessage
from digest.settings import Settings
from digest.subscribers.notify import Notice, attempt


class SendNow:
    """A `notify` that sends each notice at once into memory, as the queue's worker would."""

    def __init__(self, settings: Settings) -> None:
        self.settings, self.backend = settings, MemoryBackend()
        self.outbox = self.backend.outbox

    def __call__(self, notice: Notice) -> bool:
        with session_scope(self.settings.database_url) as session:
            attempt(session, self.settings, self.backend, notice, last=True)
        return True


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
