"""The article page for entries whose feed gives only a title or a one-line description."""

from __future__ import annotations

import logging

from digest.ingest.article import Article, extract_article
from digest.ingest.entry import Entry
from digest.ingest.fetch import FetchError, FetchLimits, fetch

log = logging.getLogger(__name__)

# Fewer words than this is a teaser, not something to summarise.
SHORT_TEXT_WORDS = 40


def needs_article(entry: Entry) -> bool:
    return len(entry.text.split()) < SHORT_TEXT_WORDS


def fetch_article(url: str, limits: FetchLimits) -> Article | None:
    """The page's main text and image, fetched under the same rules as feeds; None on failure
    (the story is kept with what the feed gave)."""
    try:
        result = fetch(url, limits, accept="text/html,application/xhtml+xml")
    except FetchError as exc:
        log.info("article %s not fetched: %s", url, exc)
        return None
    return extract_article(result.content, result.url) if result.content else None
