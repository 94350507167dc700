"""Delivery backends: SMTP for real, an outbox directory for the embedded default, memory for tests."""

from __future__ import annotations

from digest.mail.backends.base import Gate, Job, MailBackend
from digest.settings import Settings


def get_backend(settings: Settings) -> MailBackend:
    if settings.mail_backend == "smtp":
        return smtp_relay(settings)
    if settings.mail_backend == "outbox":
        from digest.mail.backends.outbox import OutboxBackend
        return OutboxBackend(settings.outbox_dir)
    from digest.mail.backends.memory import MemoryBackend
    return MemoryBackend()


def smtp_relay(settings: Settings):
    """The process's connection pool for the configured relay."""
    from digest.mail.backends.pool import Slots, SMTPRelay, relay_for
    from digest.mail.backends.smtp import SMTPBackend

    where = (settings.smtp_host, settings.smtp_port, settings.smtp_username, settings.smtp_ssl,
             settings.smtp_starttls)

    def connect(slot) -> SMTPBackend:
        return SMTPBackend(host=settings.smtp_host, port=settings.smtp_port,
                           username=settings.smtp_username, password=settings.smtp_password,
                           starttls=settings.smtp_starttls, ssl=settings.smtp_ssl,
                           timeout=settings.smtp_timeout, slot=slot)

    def make() -> SMTPRelay:
        key = f"digest:{settings.celery_queue}:smtp:{settings.smtp_host}:{settings.smtp_port}"
        slots = Slots(settings.shared_redis_url, key, settings.smtp_max_connections)
        return SMTPRelay(connect, settings.smtp_connections, slots)

    return relay_for((*where, settings.smtp_connections, settings.smtp_max_connections,
                      settings.shared_redis_url, settings.celery_queue, settings.smtp_timeout), make)


__all__ = ["Gate", "Job", "MailBackend", "get_backend", "smtp_relay"]
