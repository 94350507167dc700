"""Feed bytes to clean entries, for every format and the usual ways feeds are broken."""

import json
from datetime import UTC, datetime

import pytest

from digest.ingest.parse import FeedRejected, parse_feed

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<rss version="2.0"><channel><title>t</title>
<item><title>Leak &xxe; here</title><link>https://example.com/a</link>
<description>before &xxe; after</description></item></channel></rss>"""

LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
""" + b"".join(
    b' <!ENTITY lol%d "%s">\n' % (i, b"".join(b"&lol%s;" % (b"" if i == 1 else str(i - 1).encode())
                                                for _ in range(10)))
    for i in range(1, 10)) + b"""]>
<rss version="2.0"><channel><title>t</title>
<item><title>Laugh &lol9;</title><link>https://example.com/b</link></item></channel></rss>"""


def test_an_external_entity_is_never_expanded():
    entries = parse_feed(XXE).entries
    assert len(entries) == 1
    assert "root:" not in entries[0].title + entries[0].text + entries[0].summary_html
    assert entries[0].title.startswith("Leak")


def test_a_billion_laughs_payload_stays_small():
    assert b"<!ENTITY lol9" in LAUGHS
    entries = parse_feed(LAUGHS).entries
    assert len(entries) == 1
    assert "lollol" not in entries[0].title and len(entries[0].title) < 50


def test_scripts_handlers_and_javascript_links_are_removed_from_every_field():
    feed = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><item>
    <title>&lt;script&gt;alert(1)&lt;/script&gt;Budget &lt;b&gt;passes&lt;/b&gt; &amp;amp; more</title>
    <link>https://example.com/budget</link>
    <description><![CDATA[<p onclick="x()">Vote<script>alert(2)</script>
      <img src=x onerror="alert(3)"><a href="javascript:alert(4)">bad</a>
      <a href="/full-story">read</a><iframe src="https://evil.example"></iframe></p>]]></description>
    </item></channel></rss>"""
    entry = parse_feed(feed).entries[0]
    assert entry.title == "Budget passes & more"
    for needle in ("script", "alert", "onerror", "onclick", "javascript", "<img", "iframe"):
        assert needle not in entry.summary_html and needle not in entry.text
    assert '<a href="https://example.com/full-story" rel="noopener noreferrer">read</a>' in entry.summary_html


OSC52 = "\x1b]52;c;Y3VybCBldmlsLmV4YW1wbGUgfCBzaA==\x07"  # a clipboard write, as a title carried it


def test_no_field_keeps_a_terminal_escape_sequence():
    """JSON carries an ESC as is; XML forbids it, and feedparser's lenient parser keeps it."""
    item = {"id": f"g{OSC52}1", "url": "https://example.com/a", "title": f"Budget{OSC52} passes",
            "content_html": "<p>Vote\x1b[2J today</p>", "authors": [{"name": "Ann\x9b2J"}],
            "tags": [f"politics{OSC52}"]}
    json_feed = json.dumps({"version": "https://jsonfeed.org/version/1.1", "title": f"Blog{OSC52}",
                            "items": [item]}).encode()
    rss = (f'<?xml version="1.0"?><rss version="2.0"><channel><title>Blog{OSC52}</title><item>'
           f'<title>Budget{OSC52} passes</title><link>https://example.com/a</link>'
           f'<guid>g{OSC52}1</guid><author>Ann\x1b[2J</author><category>politics{OSC52}</category>'
           f'<description>&lt;p&gt;Vote&amp;#27;[2J today&lt;/p&gt;</description>'
           f'</item></channel></rss>').encode()
    for document in (json_feed, rss):
        feed = parse_feed(document)
        (entry,) = feed.entries
        assert (feed.title, entry.title, entry.guid) == ("Blog", "Budget passes", "g1")
        assert entry.author == "Ann" and entry.categories == ["politics"]
        assert entry.text.startswith("Vote") and entry.summary_html.startswith("<p>Vote")
        for value in (entry.text, entry.summary_html):
            assert not any(c in value for c in "\x1b\x07\x9b"), value



@pytest.mark.parametrize("item, title, categories", [
    # "\ud800" is valid JSON: Python reads it as a lone surrogate, which nh3 cannot encode.
    ({"title": "Rates \ud800rise", "tags": ["a\udfff"]}, "Rates \ufffdrise", ["a\ufffd"]),
    ({"title": "Rates rise", "tags": True}, "Rates rise", []),        # was a TypeError
    ({"title": "Rates rise", "tags": "world"}, "Rates rise", []),     # not five tags w, o, r...
])
def test_json_feed_lone_surrogates_and_tags_that_are_no_list(item, title, categories):
    document = {"version": "https://jsonfeed.org/version/1.1", "items": [
        {"url": "https://example.com/a", **item}]}
    (entry,) = parse_feed(json.dumps(document).encode()).entries
    assert (entry.title, entry.categories) == (title, categories)


def test_latin1_without_a_declaration_is_decoded():
    feed = ("<rss version=\"2.0\"><channel><title>Notícias</title><item>"
            "<title>Eleição em São Paulo</title><link>https://example.com.br/a</link>"
            "</item></channel></rss>").encode("latin-1")
    assert parse_feed(feed, content_type="text/xml").entries[0].title == "Eleição em São Paulo"


def test_whitespace_before_the_xml_declaration_is_tolerated():
    feed = b"\n\n  <?xml version=\"1.0\" encoding=\"utf-8\"?>\n<rss version=\"2.0\"><channel><title>t</title>" \
           b"<item><title>Spaced out feed</title><link>https://example.com/s</link></item></channel></rss>"
    assert [e.title for e in parse_feed(feed).entries] == ["Spaced out feed"]


@pytest.mark.parametrize("document, reason", [
    (b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body>oops</body></html>",
     "an HTML page ('502 Bad Gateway'), not a feed"),
    (b"<head><title>Document Moved</title></head><body>Object moved</body>",
     "an HTML page ('Document Moved'), not a feed"),
    (b"   \n", "empty document"),
    (b"Service Unavailable", "not a feed"),
    (b'{"error": "rate limited"}', "JSON but not a JSON Feed"),
    (b'{"version": "https://jsonfeed.org/version/1.1", "items": ', "invalid JSON"),
    (b'{"version": "https://jsonfeed.org/version/1.1", "items": [' + b"[" * 100_000
     + b"]" * 100_000 + b"]}", "not a feed: nested too deeply to read"),
    # Python refuses to turn more than 4300 digits into an int (a ValueError, not a JSON error).
    (b'{"version": "https://jsonfeed.org/version/1.1", "items": [{"id": ' + b"9" * 5000 + b"}]}",
     "invalid JSON (Exceeds the limit (4300 digits) for integer string conversion"),
])
def test_what_is_not_a_feed_is_rejected_with_a_reason(document, reason):
    with pytest.raises(FeedRejected, match=reason.replace("(", r"\(").replace(")", r"\)")):
        parse_feed(document)


def test_json_feed_1_1():
    document = {
        "version": "https://jsonfeed.org/version/1.1", "title": "Blog",
        "home_page_url": "https://blog.example.net/",
        "authors": [{"name": "Feed Author"}],
        "items": [
            {"id": "1", "url": "/posts/one?utm_source=json", "title": "First &amp; best",
             "content_html": "<p>Hello <script>x()</script>world</p>",
             "date_published": "2025-03-01T10:00:00+01:00", "tags": ["a", "b", "a"],
             "image": "/img/one.png"},
            {"id": "2", "url": "https://blog.example.net/posts/two",
             "content_text": "An untitled micro post that goes on for a while, long enough to need "
                             "shortening into a title of its own.",
             "authors": [{"name": "Guest"}]},
            {"id": "3", "content_text": "no link at all"},
        ],
    }
    feed = parse_feed(json.dumps(document).encode())
    first, second = feed.entries
    assert feed.title == "Blog" and feed.skipped == 1
    assert first.title == "First & best"
    assert first.url == "https://blog.example.net/posts/one?utm_source=json"
    assert first.summary_html == "<p>Hello world</p>"
    assert first.published_at == datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
    assert first.author == "Feed Author" and first.categories == ["a", "b"]
    assert first.image_url == "https://blog.example.net/img/one.png"
    assert second.title.startswith("An untitled micro post") and second.title.endswith("\u2026")
    assert second.author == "Guest" and second.published_at is None


def test_json_feed_1_0_author_object():
    document = {"version": "https://jsonfeed.org/version/1", "title": "Old",
                "items": [{"id": 7, "url": "https://old.example.org/7", "title": "Seven",
                           "summary": "s", "author": {"name": "Solo"}}]}
    entry = parse_feed(json.dumps(document).encode(), content_type="application/feed+json").entries[0]
    assert (entry.guid, entry.author, entry.text) == ("7", "Solo", "s")


def test_rss_1_0_atom_0_3_and_rss_0_91():
    rdf = b"""<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
      xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
      <channel rdf:about="https://rdf.example.org/"><title>R</title><link>https://rdf.example.org/</link></channel>
      <item rdf:about="https://rdf.example.org/1"><title>RDF item</title><link>https://rdf.example.org/1</link>
      <dc:date>2024-05-01T12:00:00Z</dc:date></item></rdf:RDF>"""
    atom03 = b"""<?xml version="1.0"?><feed version="0.3" xmlns="http://purl.org/atom/ns#">
      <title>A</title><link rel="alternate" href="https://atom.example.org/"/>
      <entry><title>Atom 0.3 entry</title><link rel="alternate" href="https://atom.example.org/1"/>
      <id>tag:atom.example.org,2004:1</id><issued>2004-01-01T00:00:00Z</issued>
      <modified>2004-01-01T00:00:00Z</modified></entry></feed>"""
    rss091 = b"""<?xml version="1.0"?><rss version="0.91"><channel><title>O</title>
      <link>https://old.example.org/</link><item><title>RSS 0.91 item</title>
      <link>https://old.example.org/1</link><description>d</description></item></channel></rss>"""
    assert parse_feed(rdf).entries[0].published_at == datetime(2024, 5, 1, 12, tzinfo=UTC)
    assert parse_feed(atom03).entries[0].guid == "tag:atom.example.org,2004:1"
    assert parse_feed(rss091).entries[0].title == "RSS 0.91 item"


def test_relative_links_resolve_against_the_feed_url_and_images_are_found():
    feed = b"""<?xml version="1.0"?><rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/">
      <channel><title>t</title><link>https://site.example.org/</link><item>
      <title>Relative</title><link>/news/relative</link>
      <description>&lt;a href="../about"&gt;about&lt;/a&gt;</description>
      <media:content url="/audio.mp3" type="audio/mpeg"/>
      <enclosure url="/pic.jpg" type="image/jpeg" length="1"/>
      <category>World</category><category> World </category><category>Europe</category>
      </item></channel></rss>"""
    entry = parse_feed(feed, base_url="https://feeds.example.org/rss/main.xml").entries[0]
    assert entry.url == "https://feeds.example.org/news/relative"
    assert 'href="https://feeds.example.org/about"' in entry.summary_html
    assert entry.image_url == "https://feeds.example.org/pic.jpg"
    assert entry.categories == ["World", "Europe"]


def test_google_alert_links_are_unwrapped():
    feed = b"""<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>Alert</title>
      <entry><id>tag:google.com,2013:1</id><title>Found</title>
      <link href="https://www.google.com/url?rct=j&amp;sa=t&amp;url=https://paper.example.org/story&amp;ct=ga"/>
      </entry></feed>"""
    assert parse_feed(feed).entries[0].url == "https://paper.example.org/story"


def test_broken_links_and_giant_titles_do_not_break_the_feed():
    feed = ("<rss version=\"2.0\"><channel><title>t</title>"
            "<item><title>Bad port</title><link>http://example.com:port/x</link></item>"
            "<item><title>Bad host</title><link>http://[::1/x</link></item>"
            f"<item><title>{'word ' * 200}</title><link>https://example.com/long</link></item>"
            "</channel></rss>").encode()
    feed = parse_feed(feed)
    assert feed.skipped == 2
    assert len(feed.entries[0].title) <= 301 and feed.entries[0].title.endswith("\u2026")


@pytest.mark.parametrize("version", ["http://jsonfeed.org/version/1", "https://jsonfeed.org/version/1",
                                     "http://jsonfeed.org/version/1.1", "https://jsonfeed.org/version/1.1"])
def test_json_feed_version_url_with_either_scheme(version):
    document = {"version": version, "title": "Either",
                "items": [{"id": "1", "url": "https://either.example.org/1", "title": "One"}]}
    assert [e.title for e in parse_feed(json.dumps(document).encode()).entries] == ["One"]


def test_json_without_a_json_feed_version_is_still_refused():
    document = {"version": "http://example.org/version/1", "items": []}
    with pytest.raises(FeedRejected, match="not a JSON Feed"):
        parse_feed(json.dumps(document).encode())
