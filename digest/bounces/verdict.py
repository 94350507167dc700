"""From what a report says about one recipient to a kind of failure.

The words are judged by :func:`digest.mail.replies.judge`, the one place that reads SMTP
replies: this module only finds the text that speaks about the recipient (the DSN's
Diagnostic-Code, the lines around the address in the human-readable report, or the report's
one telling line) and the codes in it. A 5xx about anything but the mailbox (a full mailbox,
a policy block, an expired queue entry) is soft: the address is kept.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from digest.bounces.findings import Kind
from digest.mail.errors import Bounce
from digest.mail.replies import Stage, enhanced_status, explains, judge

_ENHANCED = re.compile(r"(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d.])")
_REPLY_CODE = re.compile(r"(?<![\d.#])([45][0-5]\d)(?=[ \-:]|$)")
_WINDOW_LINES = 6
_REASON_CHARS = 300


@dataclass(frozen=True)
class Evidence:
    """What one report says about one recipient."""

    recipient: str | None
    status: str | None = None  # the DSN Status field, when there is one
    diagnostic: str = ""       # the DSN Diagnostic-Code text, when there is one
    report: str = ""           # the human-readable report text
    others: tuple[str, ...] = ()  # the other failing addresses the report names


def verdict(evidence: Evidence) -> tuple[Kind, str | None, str]:
    """The kind, the enhanced status code and a short reason."""
    text = " ".join(_telling_text(evidence).split())
    given = enhanced_status(evidence.status or "")
    in_text = _ENHANCED.search(text)
    status = ".".join(str(int(p)) for p in in_text.groups()) if in_text else given
    # "5.0.0" (Postfix, Exchange when the remote gave no enhanced code) says nothing.
    meaningful = status if status and not status.endswith(".0.0") else None
    code_match = _REPLY_CODE.search(text)
    if code_match:
        code = int(code_match.group(1))
    elif status:
        code = 550 if status.startswith("5") else 450
    else:
        # A report that gave up and quotes no reply: RFC 5321's "mailbox unavailable".
        code = 550
    failure = judge(code, f"{meaningful} {text}" if meaningful else text, Stage.RCPT,
                    evidence.recipient)
    # The remote server's own words when the text quotes them, else the text.
    reason = (text[code_match.start():] if code_match else text)[:_REASON_CHARS] or status or ""
    if failure is None:  # a 2xx: the report quotes a success
        return Kind.IGNORE, status, reason
    return (Kind.HARD if isinstance(failure, Bounce) else Kind.SOFT), status, reason


def telling(text: str) -> bool:
    """Whether a text gives a code or says why in words the reply classifier knows."""
    return bool(_ENHANCED.search(text) or _REPLY_CODE.search(text) or explains(text))


def _telling_text(evidence: Evidence) -> str:
    """The first text that says why: the diagnostic, the lines about the address, or (only
    when the report's own fields say nothing specific) the report's first telling line."""
    if telling(evidence.diagnostic):
        return evidence.diagnostic
    near = _near(evidence)
    if telling(near):
        return near
    status = enhanced_status(evidence.status or "")
    if status and not status.endswith(".0.0"):
        return evidence.diagnostic or near
    line = _telling_line(evidence)
    return line or evidence.diagnostic or near


def _near(evidence: Evidence) -> str:
    """The address's line and the lines after it, up to a blank line or another address;
    when that says nothing, the next paragraph too (Domino puts the reason there)."""
    if not evidence.recipient:
        return ""
    lines = evidence.report.splitlines()
    for start, line in enumerate(lines):
        if _names(line, evidence.recipient):
            break
    else:
        return ""
    window: list[str] = []
    blanks = 0
    for line in lines[start:start + _WINDOW_LINES * 2]:
        if window and any(_names(line, other) for other in evidence.others):
            break
        if not line.strip():
            if window and telling("\n".join(window)):
                break
            blanks += 1
            if blanks > 2:
                break
            continue
        window.append(line.strip())
        if len(window) >= _WINDOW_LINES:
            break
    return "\n".join(window)


def _names(line: str, address: str) -> bool:
    """Whether the line names this address (not merely one that ends with it)."""
    return re.search(rf"(?<![\w.+'-]){re.escape(address)}(?![\w-])", line, re.IGNORECASE) is not None


def _telling_line(evidence: Evidence) -> str:
    """The report's first line that says why, with the next line (reasons wrap). A line that
    names another failing address is someone else's reason, unless it is the report's only
    reason: then the report gave one reason for all its recipients."""
    lines = [line.strip() for line in evidence.report.splitlines() if line.strip()]
    reasons = [" ".join(lines[index:index + 2]) for index, line in enumerate(lines)
               if telling(line)]
    if not reasons:
        return ""
    if len(reasons) == 1 or not any(_names(reasons[0], other) for other in evidence.others):
        return reasons[0]
    return ""
