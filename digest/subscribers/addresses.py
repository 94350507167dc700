"""Checking and normalising the addresses people type or files carry."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email


class BadAddress(ValueError):
    """Not a usable email address; the message says why."""


def normalise_email(raw: str) -> str:
    """The address in one canonical form, or BadAddress.

    Syntax only (no DNS: a sign-up must not wait on, or leak to, a resolver). The whole
    address is lower-cased: local parts are case-sensitive in theory but not at any real
    provider, and one spelling per person is what keeps duplicates and suppressions exact.
    """
    try:
        checked = validate_email(raw.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise BadAddress(str(exc)) from None
    return checked.normalized.lower()


def clean_name(raw: str | None) -> str | None:
    """A display name on one line (control characters gone), at most 200 characters."""
    if raw is None:
        return None
    name = " ".join("".join(c if c.isprintable() else " " for c in raw).split())[:200]
    return name or None
