"""Feed bytes to clean entries: RSS 0.9x/1.0/2.0 and Atom 0.3/1.0 through feedparser, JSON
Feed 1.0/1.1 through :mod:`digest.ingest.jsonfeed`.

feedparser only ever sees bytes (given a string it would fetch URLs or open local files).
It is safe against entity attacks: it drops the document's DOCTYPE before its XML parser
runs, so a declared entity (an XXE `SYSTEM "file:///..."`, or billion-laughs nesting) is
never expanded and stays inert text; tests/ingest/test_parse.py holds it to that.
"""

from __future__ import annotations

import calendar
import re
from datetime import UTC, datetime
from urllib.parse import urljoin

import feedparser

from digest.ingest.clean import absolute_http_url, plain_text
from digest.ingest.entry import Entry, FeedRejected, ParsedFeed, make_entry
from digest.ingest.jsonfeed import parse_json_feed
from digest.ingest.language import declared, localized_date

__all__ = ["Entry", "FeedRejected", "ParsedFeed", "parse_feed"]


_HTML_START = re.compile(rb"^\s*(<!doctype\s+html|<html|<head|<body)", re.IGNORECASE)
_HTML_TITLE = re.compile(rb"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)


def parse_feed(data: bytes, base_url: str | None = None, content_type: str | None = None) -> ParsedFeed:
    """Entries of the feed in `data`, or FeedRejected naming why it is not a feed."""
    try:
        return _parse(data, base_url, content_type)
    except RecursionError:
        # A parser that follows nesting by recursion (Python's JSON reader does) meets a
        # document nested deeper than the stack allows: JSON arrays 100,000 deep.
        raise FeedRejected("not a feed: nested too deeply to read") from None


def _parse(data: bytes, base_url: str | None, content_type: str | None) -> ParsedFeed:
    if not data.strip():
        raise FeedRejected("empty document")
    # Whitespace before the XML declaration makes the strict XML parser give up.
    if data[:1].isspace():
        data = data.lstrip()
    if data[:1] == b"{" or (content_type or "").split(";")[0].strip().endswith("json"):
        return parse_json_feed(data, base_url)
    headers = {"content-type": content_type} if content_type else {}
    if base_url:
        headers["content-location"] = base_url  # feedparser's base for relative links
    parsed = feedparser.parse(data, response_headers=headers, sanitize_html=False,
                              resolve_relative_uris=False)
    if not parsed.get("version") and not parsed.entries:
        raise FeedRejected(_not_a_feed_reason(data, parsed.get("bozo_exception")))
    base = base_url or _document_url(parsed.feed)
    feed_language = parsed.feed.get("language")  # RSS <language>, Atom xml:lang
    entries = [_feedparser_entry(raw, base, feed_language) for raw in parsed.entries]
    kept = [entry for entry in entries if entry is not None]
    return ParsedFeed(plain_text(parsed.feed.get("title")), kept, len(entries) - len(kept))


def _document_url(feed) -> str | None:
    """Where a feed read from a file says it lives: its self link, else an http(s) id."""
    self_links = [link.get("href") for link in feed.get("links", []) if link.get("rel") == "self"]
    for candidate in [*self_links, feed.get("id")]:
        if absolute_http_url(candidate):
            return urljoin(candidate, feed.get("link") or "")
    return None


def _not_a_feed_reason(data: bytes, error: Exception | None) -> str:
    if _HTML_START.match(data[:1024]):
        title = _HTML_TITLE.search(data[:4096])
        named = f" ({plain_text(title.group(1).decode('utf-8', 'replace'))!r})" if title else ""
        return f"an HTML page{named}, not a feed"
    return f"not a feed: {error or 'no RSS, Atom, RDF or JSON Feed root element'}"


def _feedparser_entry(raw, base_url: str | None, feed_language: str | None) -> Entry | None:
    content = raw.get("content") or []
    # FeedBurner rewrites links to its redirector and keeps the publisher's in origLink.
    link = raw.get("feedburner_origlink") or raw.get("link")
    images = [m.get("url") for m in raw.get("media_thumbnail", [])]
    images += [m.get("url") for m in raw.get("media_content", [])
               if m.get("medium") == "image" or str(m.get("type", "")).startswith("image/")]
    images += [e.get("href") for e in raw.get("enclosures", [])
               if str(e.get("type", "")).startswith("image/")]
    if isinstance(raw.get("image"), dict):
        images.append(raw["image"].get("href"))
    # An Atom entry's own xml:lang (feedparser puts it on each text construct) beats the feed's.
    language = (raw.get("title_detail") or {}).get("language") or feed_language
    return make_entry(
        title=raw.get("title"), link=link, guid=raw.get("id"), summary=raw.get("summary"),
        content=content[0].get("value") if content else None, author=raw.get("author"),
        images=images, published_at=_published(raw, declared(language)),
        categories=[t.get("term") or "" for t in raw.get("tags", [])], base_url=base_url,
        language=language,
    )


def _published(raw, language: str | None) -> datetime | None:
    """feedparser's reading of the date, else the date in the feed's language: feedparser
    reads only English month and day names ("Mi, 02 Dez 2026" is none to it)."""
    # dict.get: feedparser's own get maps a missing published to updated with a warning.
    struct = next((dict.get(raw, key) for key in ("published_parsed", "updated_parsed",
                                                  "created_parsed") if dict.get(raw, key)), None)
    if not struct:
        return next((found for key in ("published", "updated", "created")
                     if (found := localized_date(dict.get(raw, key), language))), None)
    try:
        return datetime.fromtimestamp(calendar.timegm(struct), UTC)
    except (OverflowError, ValueError, OSError):
        return None
