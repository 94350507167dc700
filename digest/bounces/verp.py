"""The per-message return path (VERP): ``bounces+<token>@news.example.org``.

A bounce goes back to the envelope sender, so a return path that names the delivery
(edition, subscriber) attributes the bounce even when its body names no address, or names
one the mailbox forwarded to. The token is signed with a key derived from the secret key,
so nobody can make a bounce land on somebody else's subscription.

The token is lowercase base32 (letters and digits only): some MTAs lowercase local parts,
and no character in it needs quoting. Its payload is the two ids as minimal big-endian
integers, ``0`` for no edition (a transactional mail), then an 80-bit keyed BLAKE2b tag: at
most 44 characters, so with a bounce local part of up to
:data:`~digest.settings.MAX_BASE_LOCAL` characters (the setting's check) the local part
stays within RFC 5321's 64 octets.
"""

from __future__ import annotations

import base64
import binascii
import hmac

from digest import keyed
from digest.settings import Settings

_TAG_BYTES = 10
_ID_BYTES = 8     # ids up to 2**64 - 1
#: The longest token: a length byte, two ids, the tag, in unpadded base32.
MAX_TOKEN = -(-(1 + 2 * _ID_BYTES + _TAG_BYTES) * 8 // 5)


def _tag(secret_key: str, payload: bytes) -> bytes:
    return keyed.tag(secret_key, "verp", payload, _TAG_BYTES)


def _int_bytes(value: int) -> bytes:
    return value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big")


def token(secret_key: str, edition_id: int | None, subscriber_id: int) -> str:
    """The signed token naming one delivery; `edition_id` None for a transactional mail."""
    edition, subscriber = _int_bytes(edition_id or 0), _int_bytes(subscriber_id)
    if len(edition) > _ID_BYTES or len(subscriber) > _ID_BYTES:
        raise ValueError("ids must fit in 64 bits")
    # The first byte says how long the edition id is; the subscriber id is the rest.
    payload = bytes([len(edition)]) + edition + subscriber
    return base64.b32encode(payload + _tag(secret_key, payload)).decode("ascii").rstrip("=").lower()


def return_path(secret_key: str, bounce_address: str, edition_id: int | None,
                subscriber_id: int) -> str:
    """The envelope sender for one delivery: `bounce_address` with the token after a "+"."""
    local, _, domain = bounce_address.rpartition("@")
    return f"{local}+{token(secret_key, edition_id, subscriber_id)}@{domain}"


def envelope_sender(settings: Settings, edition_id: int | None, subscriber_id: int) -> str | None:
    """The return path for one delivery, or None without ``DIGEST_BOUNCE_ADDRESS`` (then the
    From address stays the envelope sender)."""
    if not settings.bounce_address:
        return None
    return return_path(settings.secret_key, settings.bounce_address, edition_id, subscriber_id)


def read(secret_key: str, address: str | None) -> tuple[int | None, int] | None:
    """(edition id or None, subscriber id) that a return path names, or None when the
    address carries no token or a forged, damaged or foreign one."""
    if not address:
        return None
    local = address.strip().strip("<>").rpartition("@")[0]
    encoded = local.rpartition("+")[2].upper()
    if "+" not in local or not encoded.isalnum() or len(encoded) > MAX_TOKEN:
        return None
    try:
        raw = base64.b32decode(encoded + "=" * (-len(encoded) % 8))
    except (binascii.Error, ValueError):
        return None
    payload, tag = raw[:-_TAG_BYTES], raw[-_TAG_BYTES:]
    if len(payload) < 3 or not hmac.compare_digest(tag, _tag(secret_key, payload)):
        return None
    size = payload[0]
    if not (1 <= size <= _ID_BYTES and 1 + size < len(payload)):
        return None
    edition = int.from_bytes(payload[1:1 + size], "big")
    subscriber = int.from_bytes(payload[1 + size:], "big")
    return (edition or None), subscriber
