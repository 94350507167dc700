"""What an infrastructure failure means, in a line or two an operator can act on.

The CLI, the web app and the workers meet the same failures (the database down or not
migrated, the broker or Redis down, a bad setting); each shows :func:`explain`'s words
instead of a traceback. Anything it does not recognise is a bug, whose traceback is wanted.
Libraries are imported only once an exception is in hand, so no door pays for them up front.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from digest.settings import Settings

#: PostgreSQL's "undefined table" and "undefined column": a schema older than the code.
_SCHEMA_BEHIND = {"42P01", "42703"}
UPGRADE_HINT = "run `digest db upgrade` (check DIGEST_DATABASE_URL)"


def explain(exc: BaseException, settings: Settings | None) -> str | None:
    """One or two lines naming what failed and the setting to check; None for anything else."""
    from kombu.exceptions import OperationalError as BrokerError
    from pydantic import ValidationError
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeout
    from sqlalchemy.exc import DBAPIError

    if isinstance(exc, ValidationError) and exc.title == "Settings":
        return bad_settings(exc)
    if isinstance(exc, DBAPIError):
        return _database(exc, settings)
    if isinstance(exc, BrokerError):
        url = settings.broker_url if settings else None
        return f"cannot reach the broker{_at(url)}: {_first_line(exc)} (check DIGEST_BROKER_URL)"
    if isinstance(exc, RedisConnectionError | RedisTimeout):
        return f"cannot reach Redis{_at(settings.shared_redis_url if settings else None)}: " \
               f"{_first_line(exc)} ({_redis_setting(settings)})"
    return None


def current_settings() -> Settings | None:
    """The process's settings, or None when they are what failed."""
    from digest.settings import get_settings

    try:
        return get_settings()
    except Exception:
        return None


class OneLineOutages(logging.Filter):
    """On a logger that reports failed tasks (Celery's ``celery.app.trace``): a task that
    failed because the database, the broker or Redis is down is logged as one line saying
    so, not a traceback each time beat fires while the outage lasts."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if exc is not None and (message := explain(exc, current_settings())):
            task = record.args.get("name") if isinstance(record.args, dict) else None
            record.msg, record.args = "task %s failed: %s", (task or record.name, message.replace("\n", "; "))
            record.exc_info, record.exc_text = None, None
        return True


ONE_LINE_OUTAGES = OneLineOutages()


def not_migrated(current: set[str], heads: set[str]) -> str:
    at = ", ".join(sorted(current)) or "no revision"
    return f"the database is at {at}, this version needs {', '.join(sorted(heads))}: {UPGRADE_HINT}"


def bad_settings(exc) -> str:
    lines = []
    for error in exc.errors():
        message = error["msg"].removeprefix("Value error, ")
        # Never the value: a secret key or a password may be what is wrong.
        name = "DIGEST_" + "_".join(str(part) for part in error["loc"]).upper() if error["loc"] else ""
        lines.append(f"bad setting {name}: {message}" if name else f"bad setting: {message}")
    return "\n".join(lines)


def _database(exc, settings: Settings | None) -> str | None:
    from sqlalchemy.exc import OperationalError

    cause = _first_line(exc.orig) if exc.orig is not None else _first_line(exc)
    if getattr(exc.orig, "sqlstate", None) in _SCHEMA_BEHIND or cause.startswith(
            ("no such table", "no such column")):
        return f"the database{_at_database(settings)} is not migrated to this version ({cause}): {UPGRADE_HINT}"
    if isinstance(exc, OperationalError):
        return f"cannot use the database{_at_database(settings)}: {cause} " \
               "(check DIGEST_DATABASE_URL and that the database server is running)"
    return None  # a constraint or a wrong query: the code's business, or a bug


def _at_database(settings: Settings | None) -> str:
    if settings is None:
        return ""
    from sqlalchemy.engine import make_url

    return f" {make_url(settings.database_url).render_as_string(hide_password=True)}"


def _at(url: str | None) -> str:
    if not url:
        return ""
    from kombu.utils.url import maybe_sanitize_url

    return f" at {maybe_sanitize_url(url)}"


def _redis_setting(settings: Settings | None) -> str:
    if settings is not None and settings.redis_url:
        return "check DIGEST_REDIS_URL"
    return "check DIGEST_BROKER_URL and DIGEST_REDIS_URL"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0].strip() if text else type(exc).__name__
