"""Reading a report mail: which recipients failed, and how.

A first version that reads standard delivery status notifications (RFC 3464) only; the
verdict on each recipient's status and diagnostic comes from the one reply classifier,
:func:`digest.mail.replies.judge`.
"""

from __future__ import annotations

import email
import email.policy
from email.message import Message

from digest.bounces.findings import Finding, Kind
from digest.mail.errors import Bounce
from digest.mail.replies import Stage, judge

_RETURN_PATH_HEADERS = ("Delivered-To", "X-Original-To", "Envelope-To", "X-Envelope-To", "To")


def classify(raw: bytes) -> list[Finding]:
    """One finding per affected recipient; a single IGNORE finding for anything else."""
    message = email.message_from_bytes(raw, policy=email.policy.compat32)
    return_path = next((str(message[h]).strip() for h in _RETURN_PATH_HEADERS if message[h]), None)
    findings = [_finding(fields, return_path) for fields in _status_blocks(message)]
    findings = [f for f in findings if f.kind is not Kind.IGNORE]
    return findings or [Finding(Kind.IGNORE, reason="not a delivery failure report",
                                return_path=return_path)]


def _status_blocks(message: Message) -> list[Message]:
    """The per-recipient field blocks of every message/delivery-status part."""
    blocks = []
    for part in message.walk():
        if part.get_content_type() == "message/delivery-status":
            # compat32 parses the part's blocks as sub-messages: the first is per message.
            payload = part.get_payload()
            blocks.extend(payload[1:] if isinstance(payload, list) else [])
    return blocks


def _finding(fields: Message, return_path: str | None) -> Finding:
    recipient = _address(fields.get("Final-Recipient") or fields.get("Original-Recipient"))
    action = (fields.get("Action") or "").strip().lower()
    status = (fields.get("Status") or "").strip() or None
    diagnostic = " ".join((fields.get("Diagnostic-Code") or "").split())
    text = diagnostic.partition(";")[2].strip() if ";" in diagnostic else diagnostic
    if action != "failed":
        return Finding(Kind.IGNORE, recipient, status, text, return_path)
    code, _, rest = text.partition(" ")
    reply_code = int(code) if code.isdigit() else (550 if (status or "5").startswith("5") else 450)
    reply_text = rest if code.isdigit() else text
    if status and not reply_text.startswith(status):
        reply_text = f"{status} {reply_text}"
    verdict = judge(reply_code, reply_text, Stage.RCPT, recipient)
    # Anything short of a gone mailbox (full, policy, expired in a queue) is soft.
    kind = Kind.HARD if isinstance(verdict, Bounce) else Kind.SOFT
    return Finding(kind, recipient, status, text or (status or ""), return_path)


def _address(field: str | None) -> str | None:
    if not field:
        return None
    address = field.partition(";")[2].strip() if ";" in field else field.strip()
    return address.strip("<>").lower() or None
