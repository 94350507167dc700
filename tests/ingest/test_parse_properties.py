"""Hostile feeds: whatever the bytes, parsing gives clean entries or FeedRejected, nothing else.

The ingest run records any other exception on the source, but then the whole feed is lost
and the reason is a stack trace: the parse and clean layer is meant to answer for itself.
"""

import json
import re
import unicodedata
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

from hypothesis import given, settings
from hypothesis import strategies as st

from digest.ingest.clean import ALLOWED_TAGS
from digest.ingest.entry import MAX_TITLE_CHARS
from digest.ingest.parse import FeedRejected, ParsedFeed, parse_feed

# What feeds carry by accident or on purpose: markup, entities (some double-escaped or
# undeclared), CDATA ends, terminal escape sequences raw and as entities, C0 and C1
# controls, odd whitespace, bidi overrides, lone surrogates (JSON can carry them).
FRAGMENTS = st.sampled_from([
    "<script>alert(1)</script>", "<b>", "</p>", "<a href='javascript:x'>", "<img src=x onerror=y>",
    "&amp;", "&amp;amp;", "&lt;i&gt;", "&#27;", "&#x9b;", "&#0;", "&nbsp;", "&lol;", "<![CDATA[",
    "]]>", "\x1b]52;c;SGk=\x07", "\x1b[2J", "\x9b31m", "\x9d0;t\x9c", "\x1bP+q\x1b\\", "\x1b",
    "\x00", "\x07", "\x08", "\r", "\n", "\t", "\x85", "\u2028", "\u00a0", "\u202e", "\ufeff",
    "\ud800", "\udfff", "é", "例", "🙂", " ", "  ", "https://example.org/a", "/relative", "//x.org",
])
TEXT = st.lists(st.one_of(st.text(max_size=8), FRAGMENTS), max_size=8).map("".join)
LINKS = st.one_of(TEXT, st.sampled_from([
    "https://example.org/story", "http://example.org:8080/a?utm_source=x#f", "/relative/path",
    "javascript:alert(1)", "data:text/html,x", "http://[::1", "http://example.com:port/",
    "https://www.google.com/url?url=https://target.example/a", "mailto:a@example.org", "",
]))
DATES = st.one_of(
    TEXT,
    st.datetimes(timezones=st.builds(timezone, st.timedeltas(timedelta(hours=-23, minutes=-59),
                                                             timedelta(hours=23, minutes=59))))
    .map(datetime.isoformat),
    st.sampled_from(["9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00+05:00", "Tue, 31 Dec 9999"]),
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_TAG = re.compile(r"</?([a-zA-Z][a-zA-Z0-9]*)")


def _surrogate_free(text: str) -> str:
    """XML is bytes: a lone surrogate cannot be written into it."""
    return text.encode("utf-8", "replace").decode()


@st.composite
def rss_documents(draw) -> bytes:
    def field(name: str, values=TEXT) -> str:
        value = _surrogate_free(draw(values))
        # Raw half the time: broken XML sends feedparser to its lenient parser.
        return f"<{name}>{value if draw(st.booleans()) else escape(value)}</{name}>"

    items = "".join(
        "<item>" + field("title") + field("link", LINKS) + field("guid") + field("author")
        + field("category") + field("description") + field("pubDate", DATES) + "</item>"
        for _ in range(draw(st.integers(0, 3))))
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>{field("title")}'
            f"<link>https://example.org/</link>{items}</channel></rss>").encode()


JSON_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), TEXT, LINKS, DATES),
    lambda children: st.one_of(st.lists(children, max_size=3),
                               st.dictionaries(st.sampled_from(["name", "url", "x"]), children, max_size=3)),
    max_leaves=8)
ITEM_FIELDS = ["id", "url", "external_url", "title", "summary", "content_html", "content_text",
               "image", "banner_image", "date_published", "date_modified", "tags", "author", "authors"]


@st.composite
def json_feed_documents(draw) -> bytes:
    items = draw(st.lists(st.one_of(
        st.fixed_dictionaries({}, optional={name: JSON_VALUES for name in ITEM_FIELDS}),
        st.fixed_dictionaries({"url": LINKS, "title": TEXT, "content_html": TEXT,
                               "date_published": DATES, "authors": st.lists(
                                   st.fixed_dictionaries({"name": TEXT}), max_size=2),
                               "tags": st.lists(TEXT, max_size=3)}),
        JSON_VALUES), max_size=4))
    document = {"version": draw(st.sampled_from(["https://jsonfeed.org/version/1.1",
                                                 "https://jsonfeed.org/version/1", "x"])),
                "title": draw(JSON_VALUES), "home_page_url": draw(LINKS), "items": items}
    # Escaped, a lone surrogate reaches the parser as such; raw, it cannot be UTF-8.
    return json.dumps(document, ensure_ascii=draw(st.booleans())).encode("utf-8", "replace")


DOCUMENTS = st.one_of(
    rss_documents(), json_feed_documents(), st.binary(max_size=200),
    st.binary(max_size=200).map(lambda b: b'<?xml version="1.0"?><rss version="2.0"><channel>' + b),
    st.binary(max_size=200).map(lambda b: b'{"version": "https://jsonfeed.org/version/1.1", ' + b),
)


def _assert_plain(text: str) -> None:
    """One clean line: no control character (not even a newline), no run of whitespace."""
    assert not _CONTROL.search(text), text
    assert not re.search(r"[\ud800-\udfff]", text), text
    assert text == text.strip() and "  " not in text and not any(
        unicodedata.category(c) in ("Zl", "Zp") for c in text), text


def _assert_clean(feed: ParsedFeed) -> None:
    _assert_plain(feed.title)
    for entry in feed.entries:
        _assert_plain(entry.title)
        assert entry.title and len(entry.title) <= MAX_TITLE_CHARS + 1  # + the ellipsis
        for text in (entry.text, entry.author or "", *entry.categories):
            _assert_plain(text)
        for text in (entry.summary_html, entry.guid or ""):
            assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]", text), text
        assert set(_TAG.findall(entry.summary_html)) <= ALLOWED_TAGS, entry.summary_html
        parts = urlsplit(entry.url)
        assert parts.scheme in ("http", "https") and parts.hostname, entry.url
        assert entry.published_at is None or entry.published_at.tzinfo is not None


@settings(max_examples=200, deadline=None)
@given(DOCUMENTS)
def test_any_document_parses_to_clean_entries_or_is_rejected(document):
    try:
        feed = parse_feed(document, "https://feeds.example.org/feed")
    except FeedRejected as exc:
        assert str(exc) and "\n" not in str(exc)  # one line, recorded on the source
        return
    _assert_clean(feed)
