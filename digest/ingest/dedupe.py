"""One story per story: an entry is matched to a stored story before a new one is made.

Exact: the same canonical URL, or the same GUID from the same source (a feed that moved
its links). Near: the same article syndicated under another URL or with a lightly edited
title: normalised titles nearly equal, with the same numbers, published within a window;
which words are content words depends on each title's language.

A feed is matched as a whole and only reads: the caller writes the outcome afterwards in one
short transaction, so no write lock is held while titles are compared. Titles are compared
only with the candidates a `TitleIndex` proposes, which keeps a feed of n entries near O(n).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from difflib import SequenceMatcher

from sqlmodel import Session, select

from digest.db import in_chunks
from digest.ingest.language import negations, stopwords
from digest.models import Story, StorySource

NEAR_WINDOW = timedelta(hours=48)
# Short titles ("Podcast", "Weekly links") repeat without being the same story.
MIN_TITLE_WORDS = 4
# Nor do titles of stopwords (`language.STOPWORDS`, per language) and one word ("It is what
# it is"): only the very same title matches them. This also lets `TitleIndex` find every
# near match by a shared word.
MIN_CONTENT_WORDS = 2
SIMILARITY = 0.85
WORD_SIMILARITY = 0.8

_SITE_SUFFIX = re.compile(r"\s+[-|\u2013\u2014:]\s+[^-|\u2013\u2014:]{1,40}$")
_NON_WORD = re.compile(r"[^\w\s]+")
_NUMBER = re.compile(r"\d+")


def title_key(title: str) -> str:
    """Case folded (German ß is ss), accents and punctuation dropped, a trailing " - Site
    name" removed."""
    text = unicodedata.normalize("NFKD", title)
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    stripped = _SITE_SUFFIX.sub("", text)
    if len(stripped.split()) >= MIN_TITLE_WORDS:
        text = stripped
    return " ".join(_NON_WORD.sub(" ", text).split())


def same_story_title(a: str, b: str, language_a: str | None = None,
                     language_b: str | None = None) -> bool:
    """Whether two title keys (each in its language: None reads as English) name the same story.

    A light edit adds or drops words ("... bites" / "... bites hard"), fixes a typo or
    changes a word's form ("approve" / "approves"). Swapping a content word for another
    ("Day Three" / "Day Four", "rise" / "fall"), changing a number or adding a negation
    ("stimmt nicht zu") makes another story.
    So beyond the same title, one side's content words (not stopwords) are all on the
    other side, or all but one on each side: `TitleIndex` relies on this.
    """
    if len(a.split()) < MIN_TITLE_WORDS or len(b.split()) < MIN_TITLE_WORDS:
        return False
    if a == b:
        return True
    if _NUMBER.findall(a) != _NUMBER.findall(b):
        return False
    if negations(a.split(), language_a) != negations(b.split(), language_b):
        return False
    content_a, content_b = content_words(a, language_a), content_words(b, language_b)
    if len(content_a) < MIN_CONTENT_WORDS or len(content_b) < MIN_CONTENT_WORDS:
        return False
    only_a, only_b = content_a - content_b, content_b - content_a
    if only_a and only_b and not (len(only_a) == len(only_b) == 1 and _same_word(*only_a, *only_b)):
        return False
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    # The cheap upper bounds first: most pairs are nowhere near.
    return (matcher.real_quick_ratio() >= SIMILARITY and matcher.quick_ratio() >= SIMILARITY
            and matcher.ratio() >= SIMILARITY)


def content_words(key: str, language: str | None = None) -> frozenset[str]:
    return frozenset(key.split()) - stopwords(language)


def _same_word(a: str, b: str) -> bool:
    return SequenceMatcher(None, a, b).ratio() >= WORD_SIMILARITY


# A story: (0, id) stored, or (1, position) new from the entry at that position of the feed;
# ordered as their ids will be: stored stories first, then the feed's new ones in feed order.
Ref = tuple[int, int]


@dataclass(frozen=True)
class FeedItem:
    """What matching needs of one feed entry."""

    canonical_url: str
    guid: str | None
    title: str
    published_at: datetime  # already "first seen" for an entry without a (past) date
    language: str | None = None


@dataclass
class IndexedTitle:
    ref: Ref
    key: str  # title_key of the title
    published_at: datetime
    language: str | None = None
    words: frozenset[str] = field(init=False)  # its content words

    def __post_init__(self) -> None:
        self.words = content_words(self.key, self.language)

    def could_match(self, other: IndexedTitle) -> bool:
        """Cheap conditions `same_story_title` implies: within the window, and no more than
        one content word changed if both sides have words of their own."""
        only_here, only_there = len(self.words - other.words), len(other.words - self.words)
        return (abs(self.published_at - other.published_at) <= NEAR_WINDOW
                and (not (only_here and only_there) or only_here == only_there == 1))


class TitleIndex:
    """Finds the titles `same_story_title` could accept without comparing every pair.

    In every pair of different keys it accepts, both sides have at least MIN_CONTENT_WORDS
    content words, and either the content words of one side are all on the other, or all
    but one on each side.
    Rank words by how many titles carry them (rarest first) and call a title's two rarest
    words its prefix: then the prefix of one side holds a word of the other side (prefix
    filtering, as in set-similarity joins). So a title is looked up by its prefix among the
    words of the others, and by all its words among their prefixes: no accepted pair is
    missed, and since rare words are in few titles, few candidates are compared. A title
    with fewer content words can only match the same key, looked up as such.
    """

    PREFIX = 2

    def __init__(self, keys: Iterable[str]):
        """`keys`: the titles to be added and looked up, to rank words by rarity (a word not
        among them ranks rarest; the ranking only has to stay fixed, not be exact, so the
        words are counted whatever their language)."""
        self.titles_with = Counter(word for key in keys for word in set(key.split()))
        self.by_word: defaultdict[str, list[IndexedTitle]] = defaultdict(list)
        self.by_prefix: defaultdict[str, list[IndexedTitle]] = defaultdict(list)
        self.by_key: defaultdict[str, list[IndexedTitle]] = defaultdict(list)

    def add(self, title: IndexedTitle) -> None:
        if len(title.key.split()) < MIN_TITLE_WORDS:
            return
        if len(title.words) < MIN_CONTENT_WORDS:
            self.by_key[title.key].append(title)
            return
        for word in title.words:
            self.by_word[word].append(title)
        for word in self._prefix(title.words):
            self.by_prefix[word].append(title)

    def find(self, title: IndexedTitle) -> Ref | None:
        """The first title added (in id order) published within NEAR_WINDOW of this one that
        names the same story."""
        if len(title.key.split()) < MIN_TITLE_WORDS:
            return None
        if len(title.words) < MIN_CONTENT_WORDS:
            candidates = {other.ref: other for other in self.by_key[title.key]}
        else:
            candidates = {other.ref: other for word in self._prefix(title.words)
                          for other in self.by_word[word]}
            candidates.update((other.ref, other) for word in title.words
                              for other in self.by_prefix[word])
        for ref in sorted(ref for ref, other in candidates.items() if title.could_match(other)):
            other = candidates[ref]
            if same_story_title(title.key, other.key, title.language, other.language):
                return ref
        return None

    def _prefix(self, words: frozenset[str]) -> list[str]:
        return sorted(words, key=lambda word: (self.titles_with[word], word))[:self.PREFIX]


def match_feed(session: Session, source_id: int,
               items: list[FeedItem]) -> list[tuple[str, int | None]]:
    """What each entry of one source's feed is, in feed order: ("new", None) a story to
    create; ("sighting", id) another sighting of stored story `id`, this source's first; or
    ("known", None) when this source has reported the story already (before, or earlier in
    this feed). Only reads: a few queries for the exact keys (canonical URLs, this source's
    GUIDs and sightings), one per stretch of overlapping 48-hour windows for stored titles.
    """
    urls: dict[str, Ref] = {url: (0, story_id) for url, story_id in in_chunks(
        session, select(Story.canonical_url, Story.id), Story.canonical_url,
        {item.canonical_url for item in items})}
    guids: dict[str, Ref] = {guid: (0, story_id) for guid, story_id in in_chunks(
        session, select(StorySource.guid, StorySource.story_id)
        .where(StorySource.source_id == source_id), StorySource.guid,
        {item.guid for item in items if item.guid})}
    keys = [title_key(item.title) for item in items]
    unmatched = [(key, item.published_at) for key, item in zip(keys, items, strict=True)
                 if item.canonical_url not in urls and item.guid not in guids
                 and len(key.split()) >= MIN_TITLE_WORDS]
    stored = _stored_titles(session, sorted(published for _, published in unmatched))
    index = TitleIndex([title.key for title in stored] + [key for key, _ in unmatched])
    for title in stored:
        index.add(title)

    refs: list[Ref] = []
    for position, (key, item) in enumerate(zip(keys, items, strict=True)):
        ref = urls.get(item.canonical_url)
        if ref is None and item.guid:
            ref = guids.get(item.guid)
        if ref is None:
            title = IndexedTitle((1, position), key, item.published_at, item.language)
            ref = index.find(title)
            if ref is None:
                ref = title.ref
                index.add(title)
        # Later entries of the feed with this URL or GUID are the same story.
        urls.setdefault(item.canonical_url, ref)
        if item.guid:
            guids.setdefault(item.guid, ref)
        refs.append(ref)

    seen = set(in_chunks(
        session, select(StorySource.story_id).where(StorySource.source_id == source_id),
        StorySource.story_id, {story_id for kind, story_id in refs if kind == 0}))
    outcomes: list[tuple[str, int | None]] = []
    for position, (kind, story_id) in enumerate(refs):
        if (kind, story_id) == (1, position):
            outcomes.append(("new", None))
        elif kind == 1 or story_id in seen:
            outcomes.append(("known", None))
        else:
            seen.add(story_id)
            outcomes.append(("sighting", story_id))
    return outcomes


def _stored_titles(session: Session, times: list[datetime]) -> list[IndexedTitle]:
    """Stored stories published within NEAR_WINDOW of any of the sorted `times`."""
    stretches: list[list[datetime]] = []
    for when in times:
        if stretches and when - NEAR_WINDOW <= stretches[-1][1]:
            stretches[-1][1] = when + NEAR_WINDOW
        else:
            stretches.append([when - NEAR_WINDOW, when + NEAR_WINDOW])
    # Keys of stored titles, kept for the session: a run's feeds share most of a window.
    keys = session.info.setdefault("digest_title_keys", {})
    titles = []
    for start, end in stretches:
        for story_id, title, published, language in session.exec(
                select(Story.id, Story.title, Story.published_at, Story.language)
                .where(Story.published_at >= start, Story.published_at <= end)).all():
            if (story_id, title) not in keys:
                keys[(story_id, title)] = title_key(title)
            titles.append(IndexedTitle((0, story_id), keys[(story_id, title)], published, language))
    return titles
