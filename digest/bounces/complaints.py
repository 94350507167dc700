"""Complaint reports (ARF, RFC 5965): a recipient marked our mail as spam.

Yahoo, AOL, Outlook.com (JMRP), Comcast and most feedback loops send a multipart/report with
report-type=feedback-report: a message/feedback-report part with the fields, and the
original message (or its headers) attached. Some loops redact the recipient; then the quoted
original's To, or only its Message-ID and return path, tell who it was.
"""

from __future__ import annotations

import re
from email.message import Message
from email.parser import HeaderParser

from digest.bounces.findings import Finding, Kind
from digest.bounces.mailtext import (
    decoded_header, first_address, header, original_message_id, part_text, quoted_original,
)

# RFC 5965 and RFC 6650: "abuse" and the rest are complaints; "not-spam" is the opposite,
# "auth-failure" (RFC 6591) a DMARC/DKIM failure report about our domain, not a person.
_NOT_COMPLAINTS = frozenset({"not-spam", "auth-failure", "dkim", "dmarc"})
# ARF fields pasted as text: from a Feedback-Type line to the next blank line.
_PASTED_FIELDS = re.compile(r"^Feedback-Type:[ \t]*[\w-]+.*?(?=\n[ \t]*\n|\Z)",
                            re.MULTILINE | re.DOTALL | re.IGNORECASE)
# Old Hotmail loops (staff@hotmail.com) and Amazon SES's e-mail feedback forwarding
# (complaints@email-abuse.amazonses.com) send no ARF fields: only this subject and the
# original attached.
_COMPLAINT_SUBJECT = re.compile(r"^complaint about message from ", re.IGNORECASE)
# The original's headers where a loop leaves the recipient (old Hotmail JMRP), then To.
_ORIGINAL_RECIPIENT = ("X-HmXmrOriginalRecipient", "X-Original-To", "To")


def feedback_fields(message: Message) -> Message | None:
    """The machine-readable fields of a complaint, or None if this is none. Besides a proper
    ARF part: a report that says it is one (report-type=feedback-report) but lost its fields
    part, fields pasted into a text part, SpamCop's reports and the loops that attach the
    original under "complaint about message from" (no fields at all)."""
    for part in message.walk():
        if part.get_content_type() == "message/feedback-report":
            payload = part.get_payload()
            if isinstance(payload, list) and payload and isinstance(payload[0], Message):
                return payload[0]
            return HeaderParser().parsestr(part_text(part).lstrip())
    if (message.get_content_type() == "multipart/report"
            and str(message.get_param("report-type") or "").lower() == "feedback-report"):
        return Message()
    for part in message.walk():
        if part.get_content_type() == "text/plain" and (
                match := _PASTED_FIELDS.search(part_text(part))):
            return HeaderParser().parsestr(match.group(0))
    subject = decoded_header(message, "Subject")
    if subject.startswith("[SpamCop") or (
            _COMPLAINT_SUBJECT.match(subject) and quoted_original(message) is not None):
        return Message()
    return None


def complaint(message: Message, fields: Message) -> Finding:
    feedback_type = header(fields, "Feedback-Type").lower() or "abuse"
    original = quoted_original(message, innermost=True)
    recipient = first_address(header(fields, "Original-Rcpt-To")) or first_address(
        header(fields, "Removal-Recipient"))
    if recipient is None and original is not None:
        recipient = next((address for name in _ORIGINAL_RECIPIENT
                          if (address := first_address(header(original, name)))), None)
    # Our return path: the envelope sender the report quotes, else the original's Return-Path.
    return_path = first_address(header(fields, "Original-Mail-From"))
    if return_path is None and original is not None:
        return_path = first_address(header(original, "Return-Path"))
    kind = Kind.IGNORE if feedback_type in _NOT_COMPLAINTS else Kind.COMPLAINT
    reason = f"feedback report: {feedback_type}"
    if user_agent := header(fields, "User-Agent"):
        reason += f" ({user_agent})"
    return Finding(kind, recipient, None, reason, return_path,
                   original_message_id(message, innermost=True))
