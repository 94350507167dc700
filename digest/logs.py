"""Logging for every door (CLI, web, Celery workers and beat), set up in one place.

``DIGEST_LOG_LEVEL`` (default INFO) and ``DIGEST_LOG_FORMAT`` (``text`` or ``json``, one
object a line) are read here on their own rather than with the other settings: logging
has to work when another setting is wrong, which is when its message matters most.
Records go to stderr, so a command's output on stdout stays clean for pipes.

Application events go through :func:`event`: one readable line in text, the same words
plus each field (and ``event``: its name) in JSON. No event carries an email address:
subscribers are named by id. Relays echo the recipient in their replies ("550 5.1.1
<bob@example.com>: ..."), and those replies are logged as reasons, so every line is also
scrubbed of anything that looks like an address before it leaves.
"""

from __future__ import annotations

import logging
import re
import sys
import time
from typing import Literal

from pydantic import field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# A domain ending in letters: "redis://:**@127.0.0.1" is not an address.
_ADDRESS = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@(?:[\w-]+\.)+[^\W\d_]{2,}")
REDACTED = "<address>"
#: At DEBUG, SQLAlchemy would log every statement with its parameters (addresses among them).
QUIET = {"sqlalchemy": logging.WARNING}


class LogSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DIGEST_", env_file=".env", extra="ignore")

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    log_format: Literal["text", "json"] = "text"

    @field_validator("log_level", mode="before")
    @classmethod
    def _level_any_case(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("log_format", mode="before")
    @classmethod
    def _format_any_case(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value


class _Stderr(logging.StreamHandler):
    """Writes to sys.stderr as it is when a record comes, not as it was at set-up (a test
    runner, or Click's, swaps it)."""

    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


_handler: logging.Handler | None = None


def configure(settings: LogSettings | None = None, *, unset_level: str = "INFO") -> logging.Handler:
    """Send the root logger's records at the configured level to stderr, in the configured
    format; `unset_level` when DIGEST_LOG_LEVEL is not set (the CLI's WARNING: a command's
    report is its own output, and a short error stays short). Calling it again replaces
    only what it installed (pytest's capture stays)."""
    global _handler
    settings = settings or LogSettings()
    if "log_level" not in settings.model_fields_set:
        settings = settings.model_copy(update={"log_level": unset_level})
    handler = _Stderr()
    handler.setFormatter(_formatter(settings.log_format))
    root = logging.getLogger()
    if _handler is not None:
        root.removeHandler(_handler)
    root.addHandler(handler)
    root.setLevel(settings.log_level)
    for name, level in QUIET.items():
        logging.getLogger(name).setLevel(level)
    _handler = handler
    return handler


class _Redacting:
    def format(self, record: logging.LogRecord) -> str:
        return _ADDRESS.sub(REDACTED, super().format(record))


class _Text(_Redacting, logging.Formatter):
    converter = time.gmtime
    default_time_format = "%Y-%m-%dT%H:%M:%S"
    default_msec_format = "%s.%03dZ"


def _formatter(kind: str) -> logging.Formatter:
    if kind == "text":
        return _Text(TEXT_FORMAT)
    from pythonjsonlogger.core import RESERVED_ATTRS
    from pythonjsonlogger.json import JsonFormatter

    class _Json(_Redacting, JsonFormatter):
        pass

    # Not ASCII-escaped, so an internationalised address is seen (and scrubbed) whole.
    # uvicorn adds its message again with terminal colours: not for a log shipper.
    return _Json("{levelname}{name}{message}", style="{", timestamp=True, json_ensure_ascii=False,
                 rename_fields={"levelname": "level", "name": "logger"},
                 reserved_attrs=[*RESERVED_ATTRS, "color_message"])


def event(logger: logging.Logger, name: str, text: str, *, level: int = logging.INFO,
          **fields) -> None:
    """Log the event `name`: `text` filled in from `fields` for people, and the fields
    themselves for machines. A field must not be named like a LogRecord attribute."""
    logger.log(level, text.format(**fields), extra={"event": name, **fields})


def on_celery_setup_logging(**_kwargs) -> None:
    """Celery's setup_logging signal: with a receiver, Celery leaves the root logger alone
    (it would set its own handler at --loglevel, WARNING unless told, and hide our INFO)."""
    configure()
