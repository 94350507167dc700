"""Complaint reports (ARF, RFC 5965): a recipient marked our mail as spam.

Yahoo, AOL, Outlook.com (JMRP), Comcast and most feedback loops send a multipart/report with
report-type=feedback-report: a message/feedback-report part with the fields, and the
original message (or its headers) attached. Some loops redact the recipient; then the quoted
original's To, or only its Message-ID and return path, tell who it was.
"""

from __future__ import annotations

from email.message import Message
from email.parser import HeaderParser

from digest.bounces.findings import Finding, Kind
from digest.bounces.mailtext import (
    first_address, header, original_message_id, part_text, quoted_original,
)

# RFC 5965 and RFC 6650: "abuse" and the rest are complaints; "not-spam" is the opposite,
# "auth-failure" (RFC 6591) a DMARC/DKIM failure report about our domain, not a person.
_NOT_COMPLAINTS = frozenset({"not-spam", "auth-failure", "dkim", "dmarc"})


def feedback_fields(message: Message) -> Message | None:
    """The machine-readable fields of a feedback report, or None if this is none. A report
    that says it is one (report-type=feedback-report) but lost its fields part still is."""
    for part in message.walk():
        if part.get_content_type() == "message/feedback-report":
            payload = part.get_payload()
            if isinstance(payload, list) and payload and isinstance(payload[0], Message):
                return payload[0]
            return HeaderParser().parsestr(part_text(part).lstrip())
    if (message.get_content_type() == "multipart/report"
            and str(message.get_param("report-type") or "").lower() == "feedback-report"):
        return Message()
    return None


def complaint(message: Message, fields: Message) -> Finding:
    feedback_type = header(fields, "Feedback-Type").lower() or "abuse"
    original = quoted_original(message)
    recipient = first_address(header(fields, "Original-Rcpt-To")) or first_address(
        header(fields, "Removal-Recipient"))
    if recipient is None and original is not None:
        recipient = first_address(header(original, "To"))
    # Our return path: the envelope sender the report quotes, else the original's Return-Path.
    return_path = first_address(header(fields, "Original-Mail-From"))
    if return_path is None and original is not None:
        return_path = first_address(header(original, "Return-Path"))
    kind = Kind.IGNORE if feedback_type in _NOT_COMPLAINTS else Kind.COMPLAINT
    reason = f"feedback report: {feedback_type}"
    if user_agent := header(fields, "User-Agent"):
        reason += f" ({user_agent})"
    return Finding(kind, recipient, None, reason, return_path, original_message_id(message))
