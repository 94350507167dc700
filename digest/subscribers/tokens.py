"""Signed tokens for links in mail. One salt per purpose, so a token made for one thing
(say, confirming) can never be replayed for another (say, unsubscribing)."""

from __future__ import annotations

from enum import StrEnum

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer


class Purpose(StrEnum):
    CONFIRM = "confirm"
    UNSUBSCRIBE = "unsubscribe"
    PREFERENCES = "preferences"


# Links in mail that must keep working for as long as people keep old mail.
LONG_LIVED = {Purpose.UNSUBSCRIBE, Purpose.PREFERENCES}
CONFIRM_MAX_AGE = 7 * 24 * 3600


class InvalidToken(Exception):
    """Tampered, expired or made for another purpose."""


def _serializer(secret_key: str, purpose: Purpose) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=f"digest.{purpose}")


def make_token(secret_key: str, purpose: Purpose, subscriber_id: int, list_id: int | None) -> str:
    return _serializer(secret_key, purpose).dumps({"s": subscriber_id, "l": list_id})


def read_token(secret_key: str, purpose: Purpose, token: str) -> tuple[int, int | None]:
    """(subscriber_id, list_id) from a token, or InvalidToken."""
    max_age = None if purpose in LONG_LIVED else CONFIRM_MAX_AGE
    try:
        data = _serializer(secret_key, purpose).loads(token, max_age=max_age)
    except SignatureExpired:
        raise InvalidToken("this link has expired") from None
    except BadSignature:
        raise InvalidToken("this link is not valid") from None
    return int(data["s"]), data["l"]
