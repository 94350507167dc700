"""Delivery backends: SMTP for real, an outbox directory for the embedded default, memory for tests."""

from __future__ import annotations

from digest.mail.backends.base import MailBackend
from digest.settings import Settings


def get_backend(settings: Settings) -> MailBackend:
    if settings.mail_backend == "smtp":
        from digest.mail.backends.smtp import SMTPBackend
        return SMTPBackend(host=settings.smtp_host, port=settings.smtp_port,
                           username=settings.smtp_username, password=settings.smtp_password,
                           starttls=settings.smtp_starttls, ssl=settings.smtp_ssl,
                           timeout=settings.smtp_timeout)
    if settings.mail_backend == "outbox":
        from digest.mail.backends.outbox import OutboxBackend
        return OutboxBackend(settings.outbox_dir)
    from digest.mail.backends.memory import MemoryBackend
    return MemoryBackend()


__all__ = ["MailBackend", "get_backend"]
