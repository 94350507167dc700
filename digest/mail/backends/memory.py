"""Keeps messages in a list, for tests; still checks that each one is a well-formed mail.

Tests inject failures per recipient (``backend.failures[address] = Bounce(...)``)
rather than patching internals.
"""

from __future__ import annotations

from email import message_from_bytes, policy

from digest.mail.backends.base import MailBackend
from digest.mail.errors import MailError
from digest.mail.message import OutgoingMessage

REQUIRED_HEADERS = ("From", "To", "Subject", "Date", "Message-ID")


class MemoryBackend(MailBackend):
    def __init__(self) -> None:
        self.outbox: list[OutgoingMessage] = []
        self.failures: dict[str, MailError] = {}

    def send(self, message: OutgoingMessage) -> None:
        if b"\n" in message.data.replace(b"\r\n", b""):
            raise ValueError(f"{message.message_id}: bare LF in message data")
        parsed = message_from_bytes(message.data, policy=policy.SMTP)
        missing = [name for name in REQUIRED_HEADERS if parsed[name] is None]
        if missing:
            raise ValueError(f"{message.message_id}: missing headers {missing}")
        if failure := self.failures.get(message.recipient):
            raise failure
        self.outbox.append(message)
