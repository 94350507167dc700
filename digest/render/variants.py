"""Variant keys: which group of subscribers an edition rendering is for.

A variant is everything that changes the body for a group: today the topics (sections) a
subscriber chose. The key is what the ledger stores per delivery (``Delivery.variant_key``)
and what names the stored rendering (``EditionVariant.key``):

- ``"all"``: every story, for subscribers who chose no topics;
- ``"topics:business,tech"``: only stories of those sections, sorted and lower-cased, so two
  subscribers with the same choice in any order share one rendering;
- either followed by ``";skip:12,40"``: without the stories 12 and 40 (sorted ids), which
  these readers already had from another list; the edition's reserves take their places
  (no story twice, digest.send.repeats).

:func:`variant_stories` says which stories a key gets, the one rule that the renderer and
the send's grouping both follow.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol, TypeVar

ALL = "all"
_TOPICS = "topics:"
_SKIP = ";skip:"
MAX_KEY_LENGTH = 200  # the width of EditionVariant.key and Delivery.variant_key


class VariantError(ValueError):
    """A variant key that cannot be made or read; the message names it."""


def variant_key(topics: Iterable[str] | None, skip: Iterable[int] = ()) -> str:
    """The key for subscribers who chose `topics` (empty or None: ``"all"``) and must not
    get the stories `skip`."""
    key = _topics_key(topics)
    if skipped := sorted(set(skip)):
        key += _SKIP + ",".join(str(int(story_id)) for story_id in skipped)
    if len(key) > MAX_KEY_LENGTH:
        raise VariantError(f"too many topics or stories for one variant key ({len(key)} > "
                           f"{MAX_KEY_LENGTH} characters): {key[:60]!r}...")
    return key


def _topics_key(topics: Iterable[str] | None) -> str:
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
    return variant_parts(key)[0]


def variant_parts(key: str) -> tuple[frozenset[str] | None, frozenset[int]]:
    """The topics a key selects (None: every story) and the story ids it leaves out."""
    base, _, skip = key.partition(_SKIP)
    try:
        skipped = frozenset(int(part) for part in skip.split(",")) if skip else frozenset()
    except ValueError:
        skipped = None
    topics = None if base == ALL else frozenset(base[len(_TOPICS):].split(","))
    if skipped is None or not (base == ALL or base.startswith(_TOPICS)) \
            or key != variant_key(topics, skipped):
        raise VariantError(f"not a variant key: {key!r} (expected 'all' or 'topics:a,b' sorted, "
                           f"optionally ';skip:1,2' sorted)")
    return topics, skipped


class Item(Protocol):
    story_id: int
    section: str


T = TypeVar("T", bound=Item)


def variant_pool(items: Sequence[T], reserves: Sequence[T],
                 topics: frozenset[str] | None) -> tuple[list[T], list[T]]:
    """The items of `topics` (every item when none match: an empty digest helps nobody) and
    the reserves of those topics: the stories a variant of `topics` may contain."""
    chosen = [i for i in items if i.section.lower() in topics] if topics else list(items)
    if not chosen:
        return list(items), list(reserves)
    return chosen, [r for r in reserves if not topics or r.section.lower() in topics]


def variant_stories(items: Sequence[T], reserves: Sequence[T],
                    topics: frozenset[str] | None, skip: frozenset[int]) -> list[T]:
    """The stories of a variant, in order: its pool's items less those in `skip`, each left
    out replaced by the pool's next reserve not in `skip` either, while reserves last."""
    chosen, spare = variant_pool(items, reserves, topics)
    kept = [i for i in chosen if i.story_id not in skip]
    spare = [r for r in spare if r.story_id not in skip]
    return kept + spare[:len(chosen) - len(kept)]
