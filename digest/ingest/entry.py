"""What a feed entry becomes once its untrusted fields are cleaned, whatever the format."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from digest.ingest.clean import absolute_http_url, inert_text, plain_text, sanitise_html, unwrap_redirect
from digest.ingest.language import language_of

TITLE_FROM_TEXT_CHARS = 90
MAX_TITLE_CHARS = 300  # a headline, not an article pasted into <title>
# A publication date at or before the Unix epoch is a zeroed or garbled one ("year 1"), and
# near the start of datetime's range the near-duplicate window would not fit: it is no date.
EARLIEST_DATE = datetime(1970, 1, 1, tzinfo=UTC)


class FeedRejected(Exception):
    """The bytes are not a usable feed; the message says why in one line."""


@dataclass
class Entry:
    title: str
    url: str
    guid: str | None
    summary_html: str
    text: str
    author: str | None
    image_url: str | None
    published_at: datetime | None
    categories: list[str] = field(default_factory=list)
    language: str | None = None  # "de": declared by the feed, else detected (None: unsure)


@dataclass
class ParsedFeed:
    title: str
    entries: list[Entry]
    skipped: int = 0           # entries without a usable http(s) link


def make_entry(*, title: str | None, link: str | None, guid: str | None, summary: str | None,
               content: str | None, author: str | None, images: list[str | None],
               published_at: datetime | None, categories: list[str], base_url: str | None,
               language: str | None = None) -> Entry | None:
    """A clean entry from raw feed fields, or None if it has no http(s) link. `language`:
    as the feed declares it for the entry ("de-DE"); detected from the text if it does not."""
    url = unwrap_redirect(absolute_http_url(link, base_url))
    if not url:
        return None
    summary = summary or content or ""
    text = plain_text(content or summary)
    titled = plain_text(title)
    clean_title = (_shortened(titled, MAX_TITLE_CHARS) if titled
                   else _shortened(text, TITLE_FROM_TEXT_CHARS))
    if not clean_title:
        return None
    image = next((u for u in (absolute_http_url(i, url) for i in images) if u), None)
    return Entry(
        title=clean_title, url=url, guid=inert_text(guid or "").strip() or None,
        summary_html=sanitise_html(summary, url), text=text,
        author=plain_text(author) or None, image_url=image,
        published_at=published_at if published_at and published_at > EARLIEST_DATE else None,
        categories=list(dict.fromkeys(c for c in (plain_text(c) for c in categories) if c)),
        language=language_of(language, clean_title, text),
    )


def _shortened(text: str, limit: int) -> str:
    """At most `limit` characters, cut at a word; also titles untitled items (allowed in RSS 2.0
    and JSON Feed) by their opening words."""
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0] + "\u2026"
