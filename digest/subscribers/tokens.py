"""Signed tokens for links in mail. One salt per purpose, so a token made for one thing
(say, confirming) can never be replayed for another (say, unsubscribing).

A token names its subscriber twice: by row id, and by a fingerprint of who had that id
when the token was made (a keyed hash of the address and the second the row was made). A
row id alone outlives the person: erased, their id can go to somebody else (SQLite reused
the largest one before AUTOINCREMENT; any database may after a restore or a copy), and
their old mail would open the newcomer's preferences. :func:`subscriber_for` refuses that.
"""

from __future__ import annotations

import base64
import hmac
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from functools import lru_cache

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlmodel import Session

from digest import keyed
from digest.models import Subscriber


class Purpose(StrEnum):
    CONFIRM = "confirm"
    UNSUBSCRIBE = "unsubscribe"
    PREFERENCES = "preferences"


# Links in mail that must keep working for as long as people keep old mail.
LONG_LIVED = {Purpose.UNSUBSCRIBE, Purpose.PREFERENCES}
CONFIRM_MAX_AGE = 7 * 24 * 3600
NOT_VALID = "this link is not valid"


class InvalidToken(Exception):
    """Tampered, expired, made for another purpose or for somebody else."""


@dataclass(frozen=True)
class Claim:
    """What a token with a good signature says."""

    subscriber_id: int
    list_id: int | None
    # None in tokens made before they carried one: those are checked by `signed_at`.
    fingerprint: str | None
    signed_at: datetime


@lru_cache(maxsize=16)
def _serializer(secret_key: str, purpose: Purpose) -> URLSafeTimedSerializer:
    # Cached: the send path makes two tokens per message.
    return URLSafeTimedSerializer(secret_key, salt=f"digest.{purpose}")


def fingerprint(secret_key: str, subscriber: Subscriber) -> str:
    """Who the subscriber is, in 11 characters: from the loaded row, no query.

    Keyed, because the token's payload is readable (base64 JSON) and a plain hash of an
    address gives the address away to anyone who guesses it. Whole seconds of `created_at`,
    so no backend's precision can change it; the address tells apart two rows made in one
    second."""
    stamp = int(subscriber.created_at.timestamp())
    digest = keyed.tag(secret_key, "subscriber-fingerprint", f"{subscriber.email}\0{stamp}".encode(), 8)
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def make_tokens(secret_key: str, subscriber: Subscriber, list_id: int | None,
                *purposes: Purpose) -> list[str]:
    """A token per purpose for one subscriber and list (one fingerprint for them all)."""
    payload = {"s": subscriber.id, "l": list_id, "f": fingerprint(secret_key, subscriber)}
    return [_serializer(secret_key, purpose).dumps(payload) for purpose in purposes]


def make_token(secret_key: str, purpose: Purpose, subscriber: Subscriber, list_id: int | None) -> str:
    return make_tokens(secret_key, subscriber, list_id, purpose)[0]


def read_token(secret_key: str, purpose: Purpose, token: str) -> Claim:
    """What the token says, or InvalidToken. Checks the signature, purpose and age only:
    :func:`subscriber_for` also checks that its subscriber is still the one it names."""
    max_age = None if purpose in LONG_LIVED else CONFIRM_MAX_AGE
    try:
        data, signed_at = _serializer(secret_key, purpose).loads(
            token, max_age=max_age, return_timestamp=True)
    except SignatureExpired:
        raise InvalidToken("this link has expired") from None
    except BadSignature:
        raise InvalidToken(NOT_VALID) from None
    return Claim(int(data["s"]), data["l"], data.get("f"), signed_at)


def subscriber_for(session: Session, secret_key: str, purpose: Purpose,
                   token: str) -> tuple[Subscriber | None, int | None]:
    """(the subscriber, the list id) the token was made for; no subscriber once they are
    erased. InvalidToken if the token is bad or its id now belongs to somebody else."""
    subscriber, claim = checked_claim(session, secret_key, purpose, token)
    return subscriber, claim.list_id


def checked_claim(session: Session, secret_key: str, purpose: Purpose,
                  token: str) -> tuple[Subscriber | None, Claim]:
    """:func:`subscriber_for` with the whole claim (when it was signed, too)."""
    claim = read_token(secret_key, purpose, token)
    subscriber = session.get(Subscriber, claim.subscriber_id)
    if subscriber is None:
        return None, claim
    if claim.fingerprint is None:
        # A token from before fingerprints: the id was this subscriber's if their row
        # already existed when it was signed (timestamps are whole seconds).
        theirs = subscriber.created_at.replace(microsecond=0) <= claim.signed_at
    else:
        theirs = hmac.compare_digest(claim.fingerprint, fingerprint(secret_key, subscriber))
    if not theirs:
        raise InvalidToken(NOT_VALID)
    return subscriber, claim
