"""Feed bytes to entries. feedparser only ever sees bytes: given a string it would fetch
URLs or open local files."""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import UTC, datetime

import feedparser

from digest.ingest.clean import absolute_http_url, plain_text, sanitise_html


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


def parse_feed(data: bytes, base_url: str | None = None) -> list[Entry]:
    if not data.strip():
        raise FeedRejected("empty response")
    parsed = feedparser.parse(data, sanitize_html=False, resolve_relative_uris=False)
    if not parsed.get("version") and not parsed.entries:
        reason = parsed.get("bozo_exception")
        raise FeedRejected(f"not a feed ({reason or 'no RSS, Atom or RDF root element'})")
    base = base_url or parsed.feed.get("link")
    return [entry for raw in parsed.entries if (entry := _entry(raw, base)) is not None]


def _entry(raw, base_url: str | None) -> Entry | None:
    url = absolute_http_url(raw.get("link"), base_url)
    title = plain_text(raw.get("title"))
    if not url or not title:
        return None
    content = raw.get("content") or []
    body = content[0].get("value", "") if content else ""
    summary = raw.get("summary", "") or body
    return Entry(
        title=title,
        url=url,
        guid=raw.get("id") or None,
        summary_html=sanitise_html(summary, url),
        text=plain_text(body or summary),
        author=plain_text(raw.get("author")) or None,
        image_url=_image(raw, url),
        published_at=_published(raw),
        categories=[plain_text(t.get("term")) for t in raw.get("tags", []) if t.get("term")],
    )


def _published(raw) -> datetime | None:
    struct = raw.get("published_parsed") or raw.get("updated_parsed")
    if not struct:
        return None
    return datetime.fromtimestamp(calendar.timegm(struct), UTC)


def _image(raw, base_url: str) -> str | None:
    candidates = [m.get("url") for m in raw.get("media_content", []) + raw.get("media_thumbnail", [])]
    candidates += [e.get("href") for e in raw.get("enclosures", [])
                   if str(e.get("type", "")).startswith("image/")]
    for candidate in candidates:
        if url := absolute_http_url(candidate, base_url):
            return url
    return None
