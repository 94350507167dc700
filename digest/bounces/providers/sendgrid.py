"""SendGrid's signed Event Webhook.

SendGrid signs the timestamp header followed by the raw body with ECDSA (P-256, SHA-256)
and shows the public half as base64 DER; the signature comes base64 DER in a header.
"""

from __future__ import annotations

import base64
import binascii

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from digest.bounces.findings import Finding, Kind
from digest.bounces.providers import (
    Malformed, Refused, Report, address, angle_id, fresh, judged, load_json, status_field, text,
)

SIGNATURE_HEADER = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP_HEADER = "X-Twilio-Email-Event-Webhook-Timestamp"


def public_key(value: str) -> ec.EllipticCurvePublicKey:
    """The verification key from its base64 DER form; ValueError saying what is wrong."""
    try:
        key = serialization.load_der_public_key(base64.b64decode(value.strip(), validate=True))
    except (binascii.Error, ValueError):
        raise ValueError("is not a base64 DER public key (copy SendGrid's verification key)") from None
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
        raise ValueError("is not a P-256 (ECDSA) public key, as SendGrid's verification key is")
    return key


def verify(key: str, signature: str | None, timestamp: str | None, body: bytes, now: float) -> None:
    """Refused unless SendGrid signed `body` at `timestamp`, within the replay window."""
    if not signature or not timestamp:
        raise Refused(f"no {SIGNATURE_HEADER} or {TIMESTAMP_HEADER} header")
    fresh(timestamp, now)
    try:
        public_key(key).verify(base64.b64decode(signature, validate=True),
                               timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
    except (binascii.Error, InvalidSignature):
        raise Refused("the SendGrid signature does not match") from None


def reports(body: bytes) -> list[Report]:
    """One report per event that says something about a recipient, in the batch's order."""
    events = load_json(body, "SendGrid webhook body", list)
    found = []
    for n, event in enumerate(events):
        where = f"SendGrid event {n}"
        if not isinstance(event, dict):
            raise Malformed(f"{where}: not an object")
        reason = text(event, "reason", where, required=False) or ""
        status = status_field(event, "status", where, reason)
        kind = _kind(event, where, reason, status)
        if kind is None:
            continue
        finding = Finding(kind, address(text(event, "email", where), where), status,
                          reason or event["event"],
                          message_id=angle_id(text(event, "smtp-id", where, required=False)))
        found.append(Report("sendgrid:" + text(event, "sg_event_id", where), [finding]))
    return found


def _kind(event: dict, where: str, reason: str, status: str | None) -> Kind | None:
    name = text(event, "event", where)
    if name == "bounce":
        # "blocked" is SendGrid's name for a refusal of the message, not of the mailbox.
        if event.get("type") == "blocked":
            return Kind.SOFT
        return judged(reason, status)
    if name == "dropped":
        # SendGrid drops mail to an address it saw bounce; other drops are about our message
        # (or an address already unsubscribed or complaining, of which we heard then).
        return Kind.HARD if reason == "Bounced Address" else None
    if name == "spamreport":
        return Kind.COMPLAINT
    if name in ("unsubscribe", "group_unsubscribe"):
        return Kind.UNSUBSCRIBE
    # processed, delivered, deferred (SendGrid retries; a final failure comes as a bounce),
    # open, click, group_resubscribe: nothing about a failure.
    return None
