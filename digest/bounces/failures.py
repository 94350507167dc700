"""Delivery failure reports, standard or not: one finding per failing recipient.

Standard reports (RFC 3464) name each recipient with its Action, Status and diagnostic.
Everything else (qmail, old Exchange, Domino, Yahoo, ...) is read by flufl.bounce, Mailman's
detectors, which find the failing addresses; the kind comes from the report's own words
about each address (:mod:`digest.bounces.verdict`), never from flufl's permanent/temporary
guess, which calls most full mailboxes and policy blocks permanent.
"""

from __future__ import annotations

import logging
import re
from email.message import Message

from flufl.bounce import all_failures

from digest.bounces.dsn import status_blocks
from digest.bounces.findings import Kind
from digest.bounces.mailtext import decoded_header, from_mail_system
from digest.bounces.verdict import Evidence, telling, verdict

log = logging.getLogger(__name__)

# Notices that a mail is still queued: the MTA will try again, nothing failed yet. Subjects
# first (English, German, French, Spanish), then the body's promise to retry.
_DELAY_SUBJECT = re.compile(r"delay|not yet (been )?delivered|postponed|still being retried|"
                            r"warning: (message|could not send)|verz(ö|oe)ger|retard|retras",
                            re.IGNORECASE)
_WILL_RETRY = re.compile(r"will (continue to |keep )?(retry|try again|attempt (to )?(re)?deliver|"
                         r"keep trying)|attempts will continue|"
                         r"(still|will) be(ing)? retried|this is (just |only )?a warning|"
                         r"warning only|do not need to resend|not yet been delivered",
                         re.IGNORECASE)
# Actions that are no failure (RFC 3464 2.3.3); anything else ("failed", a vendor's
# "error") is one.
_NOTICES = frozenset({"delayed", "delivered", "relayed", "expanded"})
_ADDRESS = re.compile(r"[\w.+'-]+@[\w-]+(\.[\w-]+)+")
_GAVE_UP = re.compile(r"permanent|given up|giving up", re.IGNORECASE)
_FAILED = re.compile(r"could not be delivered|undeliver|delivery (has )?failed|failed|"
                     r"permanent (error|failure)|not (be(en)? )?delivered|unable to deliver|"
                     r"returned mail|rejected", re.IGNORECASE)


def failures(message: Message, report: str) -> list[tuple[Kind, str | None, str | None, str]]:
    """(kind, recipient, status, reason) for each recipient the report is about."""
    blocks = status_blocks(message)
    temporary, permanent = _flufl(message)
    if not blocks and not temporary and not permanent and from_mail_system(message):
        permanent = _addresses_with_reasons(report)
    named = [b.recipient for b in blocks] + sorted(permanent | temporary)
    others = tuple(dict.fromkeys(named))
    results, seen = [], set()
    for block in blocks:
        if block.recipient in seen:
            continue
        seen.add(block.recipient)
        if block.action in _NOTICES or not (block.action or _failed_status(block.status)):
            results.append((Kind.IGNORE, block.recipient, block.status, f"action {block.action}"))
            continue
        evidence = Evidence(block.recipient, block.status, block.diagnostic, report,
                            tuple(o for o in others if o != block.recipient))
        results.append(_judged(evidence))
    delay_notice = not blocks and not _GAVE_UP.search(report) and bool(
        _DELAY_SUBJECT.search(decoded_header(message, "Subject")) or _WILL_RETRY.search(report))
    for address in others:
        if address in seen:
            continue
        seen.add(address)
        if address not in permanent or delay_notice:
            results.append((Kind.IGNORE, address, None, "delay notice"))
            continue
        evidence = Evidence(address, report=report,
                            others=tuple(o for o in others if o != address))
        results.append(_judged(evidence))
    if not results and not delay_notice and from_mail_system(message) and _FAILED.search(
            decoded_header(message, "Subject") + "\n" + report):
        # A bounce that names no address we can read: the VERP return path or our
        # Message-ID still tell whose it is, so its verdict is worth reporting.
        results.append(_judged(Evidence(None, report=report)))
    return results


def _judged(evidence: Evidence) -> tuple[Kind, str | None, str | None, str]:
    kind, status, reason = verdict(evidence)
    return kind, evidence.recipient, status, reason


def _failed_status(status: str | None) -> bool:
    return bool(status) and status.strip()[:1] in ("4", "5")


def _flufl(message: Message) -> tuple[set[str], set[str]]:
    """flufl.bounce's (temporary, permanent) addresses, decoded, lowercased, real addresses."""
    try:
        temporary, permanent = all_failures(message)
    except Exception:  # a detector choking on a mangled mail must not stop us
        log.warning("flufl.bounce failed on a report", exc_info=True)
        return set(), set()
    return _addresses(temporary), _addresses(permanent)


def _addresses(found) -> set[str]:
    decoded = set()
    for item in found:
        text = item.decode("utf-8", "replace") if isinstance(item, bytes) else str(item)
        text = text.strip().strip("<>").strip().lower()
        local, _, domain = text.rpartition("@")
        if local and "." in domain and " " not in text and "..." not in text:
            decoded.add(text)
    return decoded


def _addresses_with_reasons(report: str) -> set[str]:
    """Addresses named on a report line that says why ("prof@x (user not found)") or on the
    line just above one (Exchange puts the reason under the address)."""
    lines = report.splitlines()
    found = set()
    for index, line in enumerate(lines):
        if telling(line) or (index + 1 < len(lines) and telling(lines[index + 1])):
            found.update(match.group(0).strip("'.").lower() for match in _ADDRESS.finditer(line))
    return {address for address in found
            if not address.startswith(("postmaster@", "mailer-daemon@"))}
