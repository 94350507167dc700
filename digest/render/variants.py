"""Variant keys: which group of subscribers an edition rendering is for.

A variant is everything that changes the body for a group: today the topics (sections) a
subscriber chose. The key is what the ledger stores per delivery (``Delivery.variant_key``)
and what names the stored rendering (``EditionVariant.key``):

- ``"all"``: every story, for subscribers who chose no topics;
- ``"topics:business,tech"``: only stories of those sections, sorted and lower-cased, so two
  subscribers with the same choice in any order share one rendering.
"""

from __future__ import annotations

from collections.abc import Iterable

ALL = "all"
_TOPICS = "topics:"
MAX_KEY_LENGTH = 200  # the width of EditionVariant.key and Delivery.variant_key


class VariantError(ValueError):
    """A variant key that cannot be made or read; the message names it."""


def variant_key(topics: Iterable[str] | None) -> str:
    """The key for subscribers who chose `topics` (empty or None: ``"all"``)."""
    chosen = sorted({" ".join(topic.split()).lower() for topic in topics or ()} - {""})
    if not chosen:
        return ALL
    if any("," in topic for topic in chosen):
        raise VariantError(f"topic names cannot contain a comma: {chosen!r}")
    key = _TOPICS + ",".join(chosen)
    if len(key) > MAX_KEY_LENGTH:
        raise VariantError(f"too many topics for one variant key ({len(key)} > "
                           f"{MAX_KEY_LENGTH} characters): {chosen!r}")
    return key


def variant_topics(key: str) -> frozenset[str] | None:
    """The topics a key selects, or None for every story."""
    if key == ALL:
        return None
    if not key.startswith(_TOPICS) or key != variant_key(key[len(_TOPICS):].split(",")):
        raise VariantError(f"not a variant key: {key!r} (expected 'all' or 'topics:a,b' sorted)")
    return frozenset(key[len(_TOPICS):].split(","))
