"""The one shape every intake door produces: what a report says about one recipient."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    HARD = "hard"                # the mailbox or domain does not exist or has moved: suppress
    SOFT = "soft"                # full, greylisted, expired in a queue, a policy block: count
    COMPLAINT = "complaint"      # marked as spam (ARF, a provider's complaint event)
    UNSUBSCRIBE = "unsubscribe"  # a mail to the List-Unsubscribe mailto: address
    IGNORE = "ignore"            # an auto-reply, an out-of-office, a delay notice, anything else


@dataclass(frozen=True)
class Finding:
    """One recipient's outcome, as read from one report.

    The attribution fields are whatever the report carried; the intake resolves them to a
    delivery in this order: the VERP return path, our Message-ID, the token, the address."""

    kind: Kind
    # The failing (or complaining, or unsubscribing) address, lowercased; None if the
    # report names none (then only the return path or Message-ID can attribute it).
    recipient: str | None = None
    # The enhanced status code (RFC 3463) when the report gives or implies one, e.g. "5.1.1".
    status: str | None = None
    # A short human reason: the diagnostic text, trimmed.
    reason: str = ""
    # The address the report was delivered to: our VERP return path, when present.
    return_path: str | None = None
    # The Message-ID of our original message, when the report quotes its headers.
    message_id: str | None = None
    # The signed unsubscribe token from a List-Unsubscribe mailto: subject.
    token: str | None = None
