"""JSON Feed 1.0 and 1.1 (https://jsonfeed.org/version/1.1), which feedparser 6 does not read."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

from digest.ingest.clean import plain_text
from digest.ingest.entry import Entry, FeedRejected, ParsedFeed, make_entry

VERSION_PREFIX = "https://jsonfeed.org/version/"
# The spec writes https, but many real feeds (and jsonfeed.org's own 1.0 text) say http.
_VERSION = re.compile(r"^https?://jsonfeed\.org/version/", re.IGNORECASE)
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")  # json.loads pairs the others up


def parse_json_feed(data: bytes, base_url: str | None = None) -> ParsedFeed:
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise FeedRejected("JSON document is not UTF-8") from None
    except json.JSONDecodeError as exc:
        raise FeedRejected(f"not a feed: invalid JSON ({exc.msg} at line {exc.lineno})") from None
    except ValueError as exc:  # a number longer than Python converts (4300 digits)
        reason = str(exc).split(";")[0]  # without the advice to raise the limit
        raise FeedRejected(f"not a feed: invalid JSON ({reason})") from None
    if not isinstance(document, dict) or not _VERSION.match(str(document.get("version", ""))):
        raise FeedRejected(f"JSON but not a JSON Feed (no \"version\": \"{VERSION_PREFIX}1.1\")")
    items = document.get("items")
    if not isinstance(items, list):
        raise FeedRejected("JSON Feed without an \"items\" list")
    base = base_url or _text(document.get("home_page_url"))
    feed_author = _author(document)
    language = _text(document.get("language"))  # 1.1: "en-US"
    entries = [_entry(item, base, feed_author, language) for item in items if isinstance(item, dict)]
    kept = [entry for entry in entries if entry is not None]
    return ParsedFeed(plain_text(_text(document.get("title"))), kept, len(items) - len(kept))


def _entry(item: dict, base_url: str | None, feed_author: str | None, language: str) -> Entry | None:
    return make_entry(
        title=_text(item.get("title")),
        link=_text(item.get("url")) or _text(item.get("external_url")),
        guid=_text(item.get("id")) or None,
        summary=_text(item.get("summary")),
        content=_text(item.get("content_html")) or _text(item.get("content_text")),
        author=_author(item) or feed_author,
        images=[_text(item.get("image")), _text(item.get("banner_image"))],
        published_at=_date(item.get("date_published")) or _date(item.get("date_modified")),
        categories=[_text(tag) for tag in _list(item.get("tags")) if isinstance(tag, str)],
        base_url=base_url, language=language or None,
    )


def _text(value: object) -> str:
    # Ids may be numbers in the wild (the spec says strings); anything else is ignored.
    if isinstance(value, str):
        # "\ud800" is valid JSON but no text: nothing downstream (nh3, the database) can
        # encode a lone surrogate.
        return _LONE_SURROGATE.sub("\ufffd", value)
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else ""


def _list(value: object) -> list:
    # "tags": true, or a string (whose letters are no tags): the field is ignored.
    return value if isinstance(value, list) else []


def _author(obj: dict) -> str | None:
    """1.1 has "authors" (a list); 1.0 had "author" (an object)."""
    authors = obj.get("authors") if isinstance(obj.get("authors"), list) else [obj.get("author")]
    names = [_text(a.get("name")) for a in authors if isinstance(a, dict)]
    return ", ".join(n for n in names if n) or None


def _date(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
        # OverflowError: at the ends of datetime's range an offset moves the instant out of it
        # (9999-12-31T23:59:59-05:00 is in year 10000 in UTC).
        return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    except (ValueError, OverflowError):
        return None
