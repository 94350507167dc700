"""Mailgun's webhooks (JSON, one event per post).

Mailgun signs only a timestamp and a random token (HMAC-SHA256 under the webhook signing
key), not the body, so a captured signature would carry any body: each token is taken
once (:class:`Tokens`) and only within the replay window.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time

import redis

from digest.bounces.findings import Finding, Kind
from digest.bounces.providers import (
    REPLAY_WINDOW_SECONDS, Refused, Report, address, angle_id, fresh, judged, load_json, obj, status_field,
    text,
)

# Permanent failures whose reason says it all: mail Mailgun did not even try, for an
# address on its own lists, and mail that expired in its queue after temporary failures.
_REASONS = {"suppress-bounce": Kind.HARD, "suppress-complaint": Kind.COMPLAINT,
            "suppress-unsubscribe": Kind.UNSUBSCRIBE, "old": Kind.SOFT}


class Tokens:
    """Tokens seen within the replay window: in Redis when the deployment shares one (so
    every web process knows them), else in this process (enough for one web process)."""

    def __init__(self, redis_url: str | None, namespace: str) -> None:
        self.redis = redis.Redis.from_url(redis_url) if redis_url else None
        self.namespace = namespace
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()

    def first_use(self, token: str, now: float) -> bool:
        """True the first time `token` is offered within the window, False after."""
        # The window around a timestamp spans twice its length (clock skew either way).
        ttl = 2 * REPLAY_WINDOW_SECONDS
        if self.redis is not None:
            key = f"{self.namespace}:{hashlib.sha256(token.encode()).hexdigest()}"
            return bool(self.redis.set(key, 1, nx=True, ex=ttl))
        with self._lock:
            self._seen = {t: expiry for t, expiry in self._seen.items() if expiry > now}
            if token in self._seen:
                return False
            self._seen[token] = now + ttl
            return True


def verify(key: str, payload: dict, tokens: Tokens, now: float | None = None) -> None:
    """Refused unless Mailgun signed this post's token and timestamp, recently, for the
    first time."""
    now = time.time() if now is None else now
    signature = payload.get("signature")
    if not isinstance(signature, dict) or not all(
            isinstance(signature.get(k), str) for k in ("timestamp", "token", "signature")):
        raise Refused("no Mailgun signature (timestamp, token, signature)")
    fresh(signature["timestamp"], now)
    expected = hmac.new(key.encode(), (signature["timestamp"] + signature["token"]).encode(),
                        hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature["signature"].lower()):
        raise Refused("the Mailgun signature does not match")
    if not tokens.first_use(signature["token"], now):
        raise Refused("this Mailgun token was used before (a replayed post)")


def parse(body: bytes) -> dict:
    return load_json(body, "Mailgun webhook body")


def reports(payload: dict) -> list[Report]:
    where = "Mailgun event-data"
    event = obj(payload, "event-data", "Mailgun webhook")
    reply, status, code = _delivery_status(event, where)
    kind = _kind(event, where, reply, status, code)
    if kind is None:
        return []
    message = _object(event, "message")
    finding = Finding(kind, address(text(event, "recipient", where), where), status,
                      reply or text(event, "reason", where, required=False) or event["event"],
                      message_id=angle_id(text(_object(message, "headers"), "message-id", where,
                                               required=False)))
    return [Report("mailgun:" + text(event, "id", where), [finding])]


def _kind(event: dict, where: str, reply: str, status: str | None, code: int | None) -> Kind | None:
    name = text(event, "event", where)
    if name == "failed":
        if event.get("severity") != "permanent":
            # Mailgun retries a temporary failure, posting each attempt; the last one, when
            # it gives up, comes as permanent.
            return None
        reason = text(event, "reason", where, required=False)
        return _REASONS[reason] if reason in _REASONS else judged(reply, status, code)
    if name == "complained":
        return Kind.COMPLAINT
    if name == "unsubscribed":
        return Kind.UNSUBSCRIBE
    return None  # accepted, delivered, opened, clicked, stored, rejected (our own sending)


def _delivery_status(event: dict, where: str) -> tuple[str, str | None, int | None]:
    """The remote server's reply text, enhanced status code and SMTP code, when given."""
    delivery = _object(event, "delivery-status")
    reply = " ".join(str(delivery.get(k) or "") for k in ("message", "description")).strip()
    code = delivery.get("code")
    return (reply, status_field(delivery, "enhanced-code", where, reply),
            code if isinstance(code, int) and not isinstance(code, bool) else None)


def _object(mapping: dict, key: str) -> dict:
    value = mapping.get(key)
    return value if isinstance(value, dict) else {}
