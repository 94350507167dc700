"""What a backend raises when a message did not go through. One root, carrying what failed."""

from __future__ import annotations


class MailError(Exception):
    def __init__(self, reason: str, *, recipient: str | None = None, code: int | None = None):
        super().__init__(reason)
        self.reason, self.recipient, self.code = reason, recipient, code


class TemporaryFailure(MailError):
    """Try again later (4xx, connection refused or dropped before the message was sent)."""


class PermanentFailure(MailError):
    """The server refused this recipient for good (5xx): bounce and suppress."""


class UnknownOutcome(MailError):
    """The connection broke after the message was sent and before the server answered."""
