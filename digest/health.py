"""Can this deployment work? The checks behind /readyz and `digest check`.

Each check names what it looked at, whether it is fine and what it found: on failure, what
failed and the setting to check. A check never raises: one that cannot run has failed.
/readyz runs :func:`readiness` (what every process needs); `digest check` runs
:func:`everything`, which adds the mail backend (only the workers and the CLI send mail).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass

from digest.diagnose import explain, not_migrated
from digest.settings import Settings

#: Seconds a check waits for a server to answer: a probe must not hang a readiness request.
PROBE_TIMEOUT = 5.0


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str  # for operators (may name hosts): /readyz shows only name and state


def readiness(settings: Settings) -> list[Check]:
    """The database reachable and migrated to head; the broker and Redis reachable when set."""
    return database(settings) + queues(settings)


def everything(settings: Settings) -> list[Check]:
    """:func:`readiness` and the mail backend: the relay answers, or the outbox is writable."""
    return readiness(settings) + [mail(settings)]


def database(settings: Settings) -> list[Check]:
    from digest import migrate
    from digest.db import get_engine

    try:
        with get_engine(settings.database_url).connect() as connection:
            current, heads = migrate.pending(connection, settings.database_url)
    except Exception as exc:
        return [Check("database", False, _reason(exc, settings))]
    reachable = Check("database", True, "reachable")
    if current != heads:
        return [reachable, Check("schema", False, not_migrated(current, heads))]
    return [reachable, Check("schema", True, f"at {', '.join(sorted(heads))}")]


def queues(settings: Settings) -> list[Check]:
    """The broker and Redis (rate limits, connection and batch counts), those that are set."""
    checks = []
    if settings.broker_url:
        checks.append(_run("broker", settings, lambda: _broker(settings.broker_url)))
    if settings.redis_url and settings.redis_url != settings.broker_url:
        checks.append(_run("redis", settings, lambda: _redis(settings.redis_url)))
    return checks


def mail(settings: Settings) -> Check:
    if settings.mail_backend == "smtp":
        return _run("mail", settings, lambda: _relay(settings))
    if settings.mail_backend == "outbox":
        return _run("mail", settings, lambda: _outbox(settings))
    return Check("mail", True, "in-memory backend: nothing to reach")


def _run(name: str, settings: Settings, probe: Callable[[], str]) -> Check:
    try:
        return Check(name, True, probe())
    except Exception as exc:
        return Check(name, False, _reason(exc, settings))


def _reason(exc: Exception, settings: Settings) -> str:
    if isinstance(exc, MailCheckError):
        return str(exc)
    return explain(exc, settings) or f"{type(exc).__name__}: {exc}"


def _broker(url: str) -> str:
    from kombu import Connection

    with Connection(url, connect_timeout=PROBE_TIMEOUT) as connection:
        connection.ensure_connection(max_retries=0)
    return "reachable"


def _redis(url: str) -> str:
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=PROBE_TIMEOUT,
                                  socket_timeout=PROBE_TIMEOUT)
    try:
        client.ping()
    finally:
        client.close()
    return "reachable"


class MailCheckError(Exception):
    """The mail backend cannot deliver; the message names the settings to check."""


def _relay(settings: Settings) -> str:
    from digest.mail.backends.smtp import SMTPBackend
    from digest.mail.errors import CHECK_RELAY, ConnectionTrouble, MailError

    relay = SMTPBackend(host=settings.smtp_host, port=settings.smtp_port,
                        username=settings.smtp_username, password=settings.smtp_password,
                        starttls=settings.smtp_starttls, ssl=settings.smtp_ssl,
                        timeout=min(settings.smtp_timeout, PROBE_TIMEOUT))
    try:
        relay.open()   # connect, EHLO, STARTTLS and login as configured
        relay.close()  # QUIT
    except ConnectionTrouble as exc:
        raise MailCheckError(f"{exc.reason} ({CHECK_RELAY})") from None
    except MailError as exc:
        raise MailCheckError(exc.reason) from None
    return f"relay {settings.smtp_host}:{settings.smtp_port} answers"


def _outbox(settings: Settings) -> str:
    directory = settings.outbox_dir
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=directory):
            pass
    except OSError as exc:
        raise MailCheckError(f"cannot write to {directory}: {exc.strerror or exc} "
                             "(check DIGEST_OUTBOX_DIR)") from None
    return f"outbox {directory} is writable"
