"""Short keyed tags for what the service signs per message (VERP tokens, tracked links,
subscriber fingerprints): keyed BLAKE2b, a MAC in its own right and cheaper than HMAC.

Each purpose gets its own key, derived from the secret key, so a tag made for one thing is
never valid for another.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache


@lru_cache(maxsize=16)
def purpose_key(secret_key: str, purpose: str) -> bytes:
    return hashlib.sha256(f"digest.{purpose}\0{secret_key}".encode()).digest()


def tag(secret_key: str, purpose: str, data: bytes, size: int) -> bytes:
    """`size` bytes that only a holder of the secret key can make for `data` and `purpose`."""
    return hashlib.blake2b(data, key=purpose_key(secret_key, purpose), digest_size=size).digest()
