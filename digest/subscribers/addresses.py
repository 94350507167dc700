"""Checking and normalising the addresses people type or files carry."""

from __future__ import annotations

import re
from functools import lru_cache

from email_validator import EmailNotValidError, validate_email

# RFC 5322 dot-atom: a plain ASCII local part, which email-validator accepts unchanged.
_PLAIN_LOCAL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*\Z")


class BadAddress(ValueError):
    """Not a usable email address; the message says why."""


def normalise_email(raw: str) -> str:
    """The address in one canonical form, or BadAddress.

    Syntax only (no DNS: a sign-up must not wait on, or leak to, a resolver). The whole
    address is lower-cased: local parts are case-sensitive in theory but not at any real
    provider, and one spelling per person is what keeps duplicates and suppressions exact.

    email-validator spends most of its ~170 us on the domain, so for the common case (a
    plain dot-atom local part) the domain's verdict is cached: an import of 100,000
    addresses at a few hundred domains then checks each domain once.
    """
    address = raw.strip()
    local, at, domain = address.rpartition("@")
    if at and len(local) <= 64 and len(address) <= 254 and _PLAIN_LOCAL.match(local):
        return f"{local}@{_checked_domain(domain)}".lower()
    return _checked(address).normalized.lower()


@lru_cache(maxsize=4096)
def _checked_domain(domain: str) -> str:
    # "postmaster" is valid at every domain, so only the domain can fail here.
    return _checked(f"postmaster@{domain}").domain


def _checked(address: str):
    try:
        return validate_email(address, check_deliverability=False)
    except EmailNotValidError as exc:
        raise BadAddress(str(exc)) from None


def clean_name(raw: str | None) -> str | None:
    """A display name on one line (control characters gone), at most 200 characters."""
    if raw is None:
        return None
    name = " ".join("".join(c if c.isprintable() else " " for c in raw).split())[:200]
    return name or None
