"""The backend contract: open once, send many, close; usable as a context manager so a
batch reuses one connection."""

from __future__ import annotations

from digest.mail.message import OutgoingMessage


class MailBackend:
    def open(self) -> None:
        """Acquire what sending needs (a connection). Idempotent."""

    def close(self) -> None:
        """Release it. Idempotent, never raises."""

    def send(self, message: OutgoingMessage) -> None:
        """Deliver one message or raise a :class:`digest.mail.errors.MailError` subclass."""
        raise NotImplementedError

    def __enter__(self) -> MailBackend:
        self.open()
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()
