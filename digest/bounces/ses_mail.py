"""Amazon SES notifications that arrive as mail: an SNS topic with an e-mail subscription.

SNS mails the notification itself ("email" protocol, then a footer) or its JSON envelope
("email-json"). Either is read by the same code as the signed webhook
(:mod:`digest.bounces.providers.ses`), so a permanent bounce is judged from the remote
server's reply there too. A mail is no more trusted than any bounce report: the findings
name the return path of our message (SES's `mail.source`) like a DSN's VERP address does.
"""

from __future__ import annotations

import json
from email.message import Message

from digest.bounces.findings import Finding
from digest.bounces.mailtext import header, part_text
from digest.bounces.providers import HookError, ses

_KINDS = ("Bounce", "Complaint")


def ses_findings(message: Message) -> list[Finding] | None:
    """The findings of an SES bounce or complaint notification; None for any other mail."""
    document = _first_json_object(message)
    if document is None:
        return None
    if document.get("Type") == "Notification" and isinstance(document.get("Message"), str):
        envelope = document
    elif (document.get("notificationType") or document.get("eventType")) in _KINDS:
        envelope = {"MessageId": header(message, "Message-ID") or "mail",
                    "Message": json.dumps(document)}
    else:
        return None
    try:
        reports = ses.reports(envelope)
    except HookError:  # JSON that is no SES notification after all
        return None
    return [finding for report in reports for finding in report.findings] or None


def _first_json_object(message: Message) -> dict | None:
    """The JSON object a plain-text body starts with (SNS appends a footer after it)."""
    for part in message.walk():
        if part.get_content_type() != "text/plain":
            continue
        body = part_text(part).lstrip()
        if not body.startswith("{"):
            return None
        try:
            document, _ = json.JSONDecoder().raw_decode(body)
        except ValueError:
            return None
        return document if isinstance(document, dict) else None
    return None
