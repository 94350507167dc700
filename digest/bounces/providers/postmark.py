"""Postmark's webhooks (bounce, spam complaint, subscription change).

Postmark signs nothing; the webhook URL carries HTTP Basic credentials that only Postmark
and we know, compared in constant time.
"""

from __future__ import annotations

import base64
import binascii
import hmac

from digest.bounces.findings import Finding, Kind
from digest.bounces.providers import Refused, Report, address, judged, load_json, status_in, text

# Postmark's bounce types (its API's BounceType list) and what each says about the address.
# HardBounce is judged from its details like every "permanent" failure; the rest are fixed.
_BOUNCE_TYPES = {
    "BadEmailAddress": Kind.HARD,
    "Transient": Kind.SOFT, "SoftBounce": Kind.SOFT, "DnsError": Kind.SOFT,
    "Blocked": Kind.SOFT, "DMARCPolicy": Kind.SOFT, "SpamNotification": Kind.SOFT,
    "VirusNotification": Kind.SOFT, "Unknown": Kind.SOFT,
    "SpamComplaint": Kind.COMPLAINT,
    "Unsubscribe": Kind.UNSUBSCRIBE,
    # AutoResponder, AddressChange, Subscribe, OpenRelayTest, ChallengeVerification,
    # ManuallyDeactivated, Unconfirmed, SMTPApiError, InboundError,
    # TemplateRenderingFailed: nothing about the address we could act on.
}
# Why Postmark stopped sending to an address (SubscriptionChange with SuppressSending).
_SUPPRESSION_REASONS = {"HardBounce": Kind.HARD, "SpamComplaint": Kind.COMPLAINT,
                        "ManualSuppression": Kind.UNSUBSCRIBE}


def check_credentials(authorization: str | None, user: str, password: str) -> None:
    """Refused unless the Authorization header holds exactly these Basic credentials."""
    scheme, _, encoded = (authorization or "").partition(" ")
    try:
        given = base64.b64decode(encoded.strip(), validate=True) if scheme.lower() == "basic" else b""
    except binascii.Error:
        given = b""
    given_user, _, given_password = given.partition(b":")
    # Both compared, always: which half was wrong must not show in the time taken.
    user_ok = hmac.compare_digest(given_user, user.encode())
    password_ok = hmac.compare_digest(given_password, password.encode())
    if not (user_ok and password_ok):
        raise Refused("the Postmark webhook credentials are missing or wrong")


def reports(body: bytes) -> list[Report]:
    record = load_json(body, "Postmark webhook body")
    record_type = text(record, "RecordType", "Postmark webhook")
    if record_type in ("Bounce", "SpamComplaint"):
        return [_bounce(record, f"Postmark {record_type}")]
    if record_type == "SubscriptionChange":
        return _change(record)
    return []  # Delivery, Open, Click: nothing about a failure


def _bounce(record: dict, where: str) -> Report:
    bounce_type = text(record, "Type", where)
    details = text(record, "Details", where, required=False) or ""
    if bounce_type == "HardBounce":
        kind = judged(details) if details else Kind.HARD
    else:
        kind = _BOUNCE_TYPES.get(bounce_type, Kind.IGNORE)
    reason = details or text(record, "Description", where, required=False) or bounce_type
    finding = Finding(kind, address(text(record, "Email", where), where), status_in(details), reason)
    return Report(f"postmark:{text(record, 'ID', where)}", [finding])


def _change(record: dict) -> list[Report]:
    where = "Postmark SubscriptionChange"
    if record.get("SuppressSending") is not True:
        return []  # a reactivation: only the reader's own opt-in brings an address back
    reason = text(record, "SuppressionReason", where)
    kind = _SUPPRESSION_REASONS.get(reason, Kind.IGNORE)
    finding = Finding(kind, address(text(record, "Recipient", where), where), None,
                      f"Postmark suppressed sending ({reason})")
    key = f"postmark:change:{text(record, 'MessageID', where)}:{text(record, 'ChangedAt', where)}"
    return [Report(key, [finding])]
