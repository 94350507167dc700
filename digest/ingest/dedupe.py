"""One story per story: an entry is matched to a stored story before a new one is made.

Exact: the same canonical URL, or the same GUID from the same source (a feed that moved
its links). Near: the same article syndicated under another URL or with a lightly edited
title: normalised titles nearly equal, with the same numbers, published within a window.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime, timedelta
from difflib import SequenceMatcher

from sqlmodel import Session, select

from digest.models import Story, StorySource

NEAR_WINDOW = timedelta(hours=48)
# Short titles ("Podcast", "Weekly links") repeat without being the same story.
MIN_TITLE_WORDS = 4
SIMILARITY = 0.85
WORD_SIMILARITY = 0.8
# Words whose addition or removal does not change what a headline says.
STOPWORDS = frozenset(
    "a an the of in on at to for and or with by from as is are was were be been its it this "
    "that these those into over after before about new now".split())

_SITE_SUFFIX = re.compile(r"\s+[-|\u2013\u2014:]\s+[^-|\u2013\u2014:]{1,40}$")
_NON_WORD = re.compile(r"[^\w\s]+")
_NUMBER = re.compile(r"\d+")


def title_key(title: str) -> str:
    """Lowercase, accents and punctuation dropped, a trailing " - Site name" removed."""
    text = unicodedata.normalize("NFKD", title)
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    stripped = _SITE_SUFFIX.sub("", text)
    if len(stripped.split()) >= MIN_TITLE_WORDS:
        text = stripped
    return " ".join(_NON_WORD.sub(" ", text).split())


def same_story_title(a: str, b: str) -> bool:
    """Whether two title keys name the same story.

    A light edit adds or drops words ("... bites" / "... bites hard"), fixes a typo or
    changes a word's form ("approve" / "approves"). Swapping a content word for another
    ("Day Three" / "Day Four", "rise" / "fall") or changing a number makes another story.
    """
    words_a, words_b = a.split(), b.split()
    if len(words_a) < MIN_TITLE_WORDS or len(words_b) < MIN_TITLE_WORDS:
        return False
    if a == b:
        return True
    if _NUMBER.findall(a) != _NUMBER.findall(b):
        return False
    only_a = set(words_a) - set(words_b) - STOPWORDS
    only_b = set(words_b) - set(words_a) - STOPWORDS
    if only_a and only_b and not (len(only_a) == len(only_b) == 1 and _same_word(*only_a, *only_b)):
        return False
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    # The cheap upper bounds first: most pairs are nowhere near.
    return (matcher.real_quick_ratio() >= SIMILARITY and matcher.quick_ratio() >= SIMILARITY
            and matcher.ratio() >= SIMILARITY)


def _same_word(a: str, b: str) -> bool:
    return SequenceMatcher(None, a, b).ratio() >= WORD_SIMILARITY


class StoryMatcher:
    """Finds the stored story each entry of one source's feed is a sighting of.

    The exact keys (canonical URLs, this source's GUIDs, its sightings) of the whole feed
    are loaded with a few queries up front, so a feed polled again costs no query per
    entry; titles are compared only for entries that match nothing exactly.
    """

    def __init__(self, session: Session, source_id: int, entries: list[tuple[str, str | None]]):
        """`entries`: (canonical URL, GUID) of every entry of the feed."""
        self.session, self.source_id = session, source_id
        urls, guids = zip(*entries, strict=True) if entries else ((), ())
        self.by_url: dict[str, int] = dict(_in_chunks(
            session, select(Story.canonical_url, Story.id), Story.canonical_url, set(urls)))
        self.by_guid: dict[str, int] = dict(_in_chunks(
            session, select(StorySource.guid, StorySource.story_id)
            .where(StorySource.source_id == source_id), StorySource.guid, set(filter(None, guids))))
        known = set(self.by_url.values()) | set(self.by_guid.values())
        self.seen: set[int] = set(_in_chunks(
            session, select(StorySource.story_id).where(StorySource.source_id == source_id),
            StorySource.story_id, known))

    def find(self, *, canonical_url: str, guid: str | None, title: str,
             published_at: datetime) -> int | None:
        """The id of the stored story this entry is another sighting of, if any."""
        story_id = self.by_url.get(canonical_url)
        if story_id is None and guid:
            story_id = self.by_guid.get(guid)
        if story_id is None:
            story_id = _near_title(self.session, title_key(title), published_at)
            if story_id is not None and self.session.exec(select(StorySource.id).where(
                    StorySource.story_id == story_id,
                    StorySource.source_id == self.source_id)).first() is not None:
                self.seen.add(story_id)
        return story_id

    def seen_here(self, story_id: int) -> bool:
        """Whether this source has reported the story before."""
        return story_id in self.seen

    def record(self, story_id: int, canonical_url: str, guid: str | None) -> None:
        """This source now reports the story: later entries of the feed match it exactly."""
        self.by_url.setdefault(canonical_url, story_id)
        if guid:
            self.by_guid.setdefault(guid, story_id)
        self.seen.add(story_id)


def _in_chunks(session: Session, query, column, values: set, size: int = 500) -> list:
    """Rows of `query` whose `column` is among `values`, in chunks that keep statements small."""
    ordered, rows = sorted(values), []
    for start in range(0, len(ordered), size):
        rows += session.exec(query.where(column.in_(ordered[start:start + size]))).all()
    return rows


def _near_title(session: Session, key: str, published_at: datetime) -> int | None:
    if len(key.split()) < MIN_TITLE_WORDS:
        return None
    rows = session.exec(select(Story.id, Story.title).where(
        Story.published_at >= published_at - NEAR_WINDOW,
        Story.published_at <= published_at + NEAR_WINDOW).order_by(Story.id)).all()
    # Keys of stored titles, kept for the session: a feed's entries share most of a window.
    keys = session.info.setdefault("digest_title_keys", {})
    for story_id, title in rows:
        if (story_id, title) not in keys:
            keys[(story_id, title)] = title_key(title)
        if same_story_title(key, keys[(story_id, title)]):
            return story_id
    return None
