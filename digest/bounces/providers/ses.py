"""Amazon SES notifications (bounce, complaint, delivery), as SNS delivers them.

SES sends a bounce notification only once it gives up on a recipient, so a transient
one is a soft bounce, not a delay. Both the classic notifications (``notificationType``)
and configuration-set events (``eventType``) are read.
"""

from __future__ import annotations

from digest.bounces.findings import Finding, Kind
from digest.bounces.providers import (
    Malformed, Report, address, angle_id, judged, load_json, obj, status_field, text,
)

# Subtypes that say the address is gone (or SES will not mail it): no reply to judge.
_GONE = frozenset({"NoEmail", "Suppressed", "OnAccountSuppressionList"})


def reports(sns_message: dict) -> list[Report]:
    """The report in a verified SNS Notification; none for events that are no failure."""
    key = "ses:" + text(sns_message, "MessageId", "SNS message")
    notification = load_json(text(sns_message, "Message", "SNS message"), "SES notification (the SNS Message)")
    kind = notification.get("notificationType") or notification.get("eventType")
    if kind not in ("Bounce", "Complaint"):
        return []
    mail = obj(notification, "mail", "SES notification")
    origin = {"return_path": mail.get("source") if isinstance(mail.get("source"), str) else None,
              "message_id": _our_message_id(mail)}
    if kind == "Bounce":
        findings = _bounces(obj(notification, "bounce", "SES bounce"), origin)
    else:
        findings = _complaints(obj(notification, "complaint", "SES complaint"), origin)
    return [Report(key, findings)]


def _bounces(bounce: dict, origin: dict) -> list[Finding]:
    permanent = text(bounce, "bounceType", "SES bounce") == "Permanent"
    subtype = text(bounce, "bounceSubType", "SES bounce", required=False) or ""
    findings = []
    for where, recipient in _recipients(bounce, "bouncedRecipients"):
        diagnostic = text(recipient, "diagnosticCode", where, required=False) or ""
        status = status_field(recipient, "status", where, diagnostic)
        if not permanent:
            kind = Kind.SOFT
        elif subtype in _GONE or not diagnostic:
            kind = Kind.HARD
        else:
            kind = judged(diagnostic, status)
        reason = diagnostic or f"{bounce['bounceType']} bounce ({subtype or 'no subtype'})"
        findings.append(Finding(kind, address(text(recipient, "emailAddress", where), where),
                                status, reason, **origin))
    return findings


def _complaints(complaint: dict, origin: dict) -> list[Finding]:
    feedback = text(complaint, "complaintFeedbackType", "SES complaint", required=False)
    # A feedback report of type not-spam is the reader saying the opposite of a complaint.
    kind = Kind.IGNORE if feedback == "not-spam" else Kind.COMPLAINT
    return [Finding(kind, address(text(recipient, "emailAddress", where), where), None,
                    f"spam complaint ({feedback or 'no feedback type'})", **origin)
            for where, recipient in _recipients(complaint, "complainedRecipients")]


def _recipients(event: dict, key: str) -> list[tuple[str, dict]]:
    recipients = event.get(key)
    if not isinstance(recipients, list) or not recipients:
        raise Malformed(f"SES notification: {key!r} is missing or empty")
    for n, recipient in enumerate(recipients):
        if not isinstance(recipient, dict):
            raise Malformed(f"SES notification: {key}[{n}] is not an object")
    return [(f"SES notification {key}[{n}]", recipient) for n, recipient in enumerate(recipients)]


def _our_message_id(mail: dict) -> str | None:
    """The Message-ID header of our message (SES's own messageId is another id)."""
    common = mail.get("commonHeaders")
    if isinstance(common, dict) and isinstance(common.get("messageId"), str):
        return angle_id(common["messageId"])
    for header in mail.get("headers") or []:
        if isinstance(header, dict) and str(header.get("name", "")).lower() == "message-id":
            return angle_id(str(header.get("value", "")))
    return None
