"""Sending providers' webhooks, read into findings.

Each module checks that a post comes from its provider (a signature, or credentials in the
URL for Postmark) and turns the provider's events into :class:`Report` values, which the
door (:mod:`digest.web.hooks`) hands to :func:`digest.bounces.intake.record`. Nothing here
imports a web framework: a refusal is a :class:`HookError` carrying the HTTP status the
door answers with.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from email.utils import parseaddr

from digest.bounces.findings import Finding, Kind
from digest.bounces.verdict import Evidence, verdict

#: How old a signed timestamp may be (and how far in the future a skewed clock may put
#: it); a captured post replayed later than this is refused.
REPLAY_WINDOW_SECONDS = 600


class HookError(Exception):
    status = 400


class Refused(HookError):
    """Not shown to come from the provider: no signature, a wrong one, an old one."""

    status = 401


class Forbidden(HookError):
    """From the provider, but about mail that is not ours (an SNS topic not configured)."""

    status = 403


class Malformed(HookError):
    """Signed, but not a payload we can read; the message names what is wrong."""

    status = 400


class Unreachable(HookError):
    """The provider's side could not be reached (an SNS subscription to confirm)."""

    status = 502


@dataclass(frozen=True)
class Report:
    """One provider event: its id (seen twice, counted once) and what it says."""

    key: str
    findings: list[Finding]

    def __post_init__(self) -> None:
        if len(self.key) > 200:  # Feedback.report_key's size
            raise Malformed(f"event id {self.key[:40]!r}... is longer than 200 characters")


def fresh(timestamp: object, now: float) -> None:
    """Refuse a signed timestamp outside the replay window."""
    try:
        seconds = int(str(timestamp))
    except ValueError:
        raise Refused("the signature's timestamp is not a number") from None
    if abs(now - seconds) > REPLAY_WINDOW_SECONDS:
        raise Refused("the signature's timestamp is outside the replay window")


def load_json(raw: bytes | str, what: str, expected: type = dict):
    """The JSON document `raw`, which must be an object (or `expected`); Malformed otherwise."""
    try:
        value = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise Malformed(f"{what}: not JSON ({exc})") from None
    if not isinstance(value, expected):
        raise Malformed(f"{what}: not a JSON {'array' if expected is list else 'object'}")
    return value


def text(mapping: dict, key: str, where: str, *, required: bool = True) -> str | None:
    """A string field of a JSON object; Malformed naming `where` when required and absent."""
    value = mapping.get(key)
    if value in (None, "") and not required:
        return None
    if not isinstance(value, str | int) or isinstance(value, bool) or str(value) == "":
        raise Malformed(f"{where}: {key!r} is missing or not a string")
    return str(value)


def obj(mapping: dict, key: str, where: str) -> dict:
    value = mapping.get(key)
    if not isinstance(value, dict):
        raise Malformed(f"{where}: {key!r} is missing or not an object")
    return value


def address(value: str, where: str) -> str:
    """The bare, lowercased address of a recipient field (which may carry a display name)."""
    bare = parseaddr(value)[1].strip().lower()
    if "@" not in bare:
        raise Malformed(f"{where}: {value!r} is not an email address")
    return bare


def angle_id(value: str | None) -> str | None:
    """A Message-ID as our headers write it, in angle brackets (some providers drop them)."""
    value = (value or "").strip()
    return (value if value.startswith("<") else f"<{value}>") if value else None


_STATUS = re.compile(r"\b([245]\.\d{1,3}\.\d{1,3})\b")


def status_in(reply: str) -> str | None:
    """The first enhanced status code anywhere in a diagnostic text."""
    match = _STATUS.search(reply)
    return match.group(1) if match else None


def status_field(mapping: dict, key: str, where: str, reply: str = "") -> str | None:
    """A provider's enhanced status code field, kept only if it holds one (some put other
    text there), else the first code in the `reply` text."""
    return status_in(text(mapping, key, where, required=False) or "") or status_in(reply)


def judged(reply: str, status: str | None = None, code: int | None = None) -> Kind:
    """The kind of a failure a provider calls permanent, judged from the remote server's
    reply as a bounce mail's is (:func:`digest.bounces.verdict.verdict`): HARD only when it
    says the mailbox or domain is gone; a full mailbox, a policy block or a 4xx is SOFT.
    Providers call many blocks "permanent" or "bounce"; the reply says better."""
    reply = " ".join(reply.split()).removeprefix("smtp;").strip()
    if code and not reply.startswith(str(code)):
        reply = f"{code} {reply}"
    kind, _, _ = verdict(Evidence(None, status=status, diagnostic=reply))
    return Kind.SOFT if kind is Kind.IGNORE else kind
