import pytest

from digest.ingest.clean import canonical_url, plain_text, sanitise_html


@pytest.mark.parametrize("url, expected", [
    ("HTTPS://Example.COM/a?utm_source=x&id=3#top", "https://example.com/a?id=3"),
    ("http://example.com:80/path?fbclid=abc&gclid=d", "http://example.com/path"),
    ("https://example.com:8443/x", "https://example.com:8443/x"),
    ("https://example.com", "https://example.com/"),
    ("https://example.com/s?q=a%20b&utm_campaign=x&sig=x/y+z&mc_cid=1", "https://example.com/s?q=a%20b&sig=x/y+z"),
])
def test_canonical_url(url, expected):
    assert canonical_url(url) == expected


def test_plain_text_decodes_entities_and_drops_markup():
    assert plain_text("  <b>Rates</b> &amp;amp; <i>bonds</i>\n\n rise &#8212; again ") == "Rates & bonds rise \u2014 again"


def test_sanitise_removes_scripts_handlers_and_javascript_links():
    dirty = ('<p onclick="x()">Hi<script>alert(1)</script><img src=x onerror=alert(1)>'
             '<a href="javascript:alert(1)">bad</a> <a href="/story">good</a></p>')
    clean = sanitise_html(dirty, "https://example.com/feed")
    assert "script" not in clean and "onerror" not in clean and "onclick" not in clean
    assert "javascript" not in clean and "<img" not in clean
    assert 'href="https://example.com/story"' in clean


def test_redirector_links_are_unwrapped():
    from digest.ingest.clean import unwrap_redirect
    assert unwrap_redirect("https://www.google.com/url?rct=j&url=https://paper.example.org/a&ct=ga") \
        == "https://paper.example.org/a"
    assert unwrap_redirect("https://www.google.com/url?url=javascript:alert(1)") \
        == "https://www.google.com/url?url=javascript:alert(1)"
