"""Reading a mail that came back: which recipients it is about, and what it says of each.

The entry point of every door that receives mail (a pipe, a maildir, an IMAP mailbox). In
order: a mail to our List-Unsubscribe address, a complaint report (ARF), an Amazon SES
notification mailed by SNS, a standard or non-standard delivery failure report, an
auto-reply; anything else is ignored. The verdict on each failure comes from the one reply
classifier, :func:`digest.mail.replies.judge`.
"""

from __future__ import annotations

import logging

from digest.bounces.autoreply import is_auto_reply
from digest.bounces.complaints import complaint, feedback_fields
from digest.bounces.failures import failures
from digest.bounces.findings import Finding, Kind
from digest.bounces.mailtext import (
    first_address,
    header,
    original_message_id,
    parse,
    report_text,
)
from digest.bounces.ses_mail import ses_findings
from digest.bounces.unsubscribe import unsubscribe_request

log = logging.getLogger(__name__)

_RETURN_PATH_HEADERS = ("Delivered-To", "X-Original-To", "Envelope-To", "X-Envelope-To", "To")


def classify(raw: bytes) -> list[Finding]:
    """One finding per affected recipient; a single IGNORE finding for anything else.

    Never raises: whatever bytes arrive (a truncated mail, a binary attachment, a spam with
    broken MIME), the door gets findings back and goes on with the next mail."""
    try:
        return _classify(raw)
    except Exception as error:  # the contract above; the tests fuzz it
        log.warning("could not read a report mail", exc_info=True)
        return [Finding(Kind.IGNORE, reason=f"unreadable mail: {type(error).__name__}")]


def _classify(raw: bytes) -> list[Finding]:
    message = parse(raw)
    return_path = next((address for name in _RETURN_PATH_HEADERS
                        if (address := first_address(header(message, name)))), None)
    if request := unsubscribe_request(message, return_path):
        return [request]
    if (fields := feedback_fields(message)) is not None:
        return [complaint(message, fields)]
    if found := ses_findings(message):
        return found
    if is_auto_reply(message):
        return [Finding(Kind.IGNORE, reason="auto-reply", return_path=return_path)]
    found = failures(message, report_text(message))
    failed = [item for item in found if item[0] is not Kind.IGNORE]
    if not failed:
        reason = found[0][3] if found else "not a delivery failure report"
        return [Finding(Kind.IGNORE, reason=reason, return_path=return_path)]
    message_id = original_message_id(message)
    return [Finding(kind, recipient, status, reason, return_path, message_id)
            for kind, recipient, status, reason in failed]
