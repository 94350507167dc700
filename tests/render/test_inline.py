"""Both inliners: rules inlined, @media and client hacks kept, nothing fetched, nothing logged."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import lxml.html
import pytest

from digest import PROJECT_ROOT
from digest.render.digest import render_variant
from digest.render.inline import INLINERS, inline_css

INLINERS_USED = sorted(INLINERS)


def styles(html: str) -> list[str]:
    return [s.text or "" for s in lxml.html.document_fromstring(html).iter("style")]


@pytest.mark.parametrize("inliner", INLINERS_USED)
def test_media_queries_dark_mode_and_client_hacks_stay_in_style(sqlite_session, sqlite_settings, specimen, inliner):
    settings = sqlite_settings.model_copy(update={"css_inliner": inliner})
    html = render_variant(sqlite_session, settings, specimen).html
    kept = "\n".join(styles(html))
    assert re.search(r"@media only screen and \(max-width: ?620px\)", kept)
    assert re.search(r"@media \(prefers-color-scheme: ?dark\)", kept)
    # The kept rules must still beat the inlined ones.
    assert re.search(r"\.card\s*\{\s*background-color: ?#1e293b ?!important", kept)
    # The hacks block is left as written, and its rules are not inlined.
    assert "u + #body a, #MessageViewBody a { color: inherit; text-decoration: none; }" in kept
    assert "[data-ogsc] .summary { color: #cbd5e1 !important; }" in kept
    # Plain rules went onto the elements and left the stylesheet.
    assert ".summary { margin" not in kept and not re.search(r"^\s*\.story\s*\{", kept, re.M)
    summary = lxml.html.document_fromstring(html).find_class("summary")[0]
    assert "font-size" in summary.get("style") and "#374151" in summary.get("style")
    # The story image keeps the template's width and height for Outlook.
    image = next(lxml.html.document_fromstring(html).iter("img"))
    assert (image.get("width"), image.get("height")) == ("536", "302")
    assert 'content="light dark"' in html and "<!--[if mso]>" in html


def test_the_stylesheet_has_no_nested_at_rules(sqlite_session, sqlite_settings, specimen):
    """premailer fails on an @media inside another @-rule, and Gmail drops such a <style>."""
    html = render_variant(sqlite_session, sqlite_settings, specimen).html
    for css in styles(html):
        depth = 0
        for token in re.findall(r"[{}]|@[a-z-]+", re.sub(r"/\*.*?\*/", "", css, flags=re.S)):
            if token == "{":
                depth += 1
            elif token == "}":
                depth -= 1
            else:
                assert depth == 0, f"{token} nested inside another block"
        assert depth == 0


class _Recorder(BaseHTTPRequestHandler):
    requests: list[str] = []

    def do_GET(self):  # noqa: N802 (the http.server API)
        self.requests.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "text/css")
        self.end_headers()
        self.wfile.write(b"p { color: red; }")

    def log_message(self, *args):
        pass


@pytest.mark.parametrize("inliner", INLINERS_USED)
def test_the_inliner_fetches_nothing(inliner):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        html = inline_css(f'<html><head><link rel="stylesheet" href="{base}/linked.css">'
                          "<style>p { margin: 0; }</style></head><body><p>x</p></body></html>",
                          inliner)
        # cssutils would fetch an @import even with premailer's allow_network=False: refused.
        with pytest.raises(ValueError, match="@import"):
            inline_css(f"<html><head><style>@import url({base}/imported.css);</style></head>"
                       "<body><p>x</p></body></html>", inliner)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
    assert _Recorder.requests == []
    assert "color: red" not in html and re.search(r'<p style="margin: ?0;?">', html)


def test_an_unknown_inliner_is_refused_by_name():
    with pytest.raises(ValueError, match="unknown CSS inliner 'tidy'"):
        inline_css("<p>x</p>", "tidy")


CSS_WITH_MSO = "td { mso-line-height-rule: exactly; mso-table-lspace: 0pt; color: red; }"


def run_python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True,
                          text=True, timeout=60)


def test_cssutils_warnings_stay_out_of_the_logs():
    # In a fresh process (cssutils caches parses), with logging on at DEBUG as a worker might.
    control = run_python(
        "import logging; logging.basicConfig(level=logging.DEBUG)\n"
        f"import cssutils; cssutils.parseString({CSS_WITH_MSO!r})")
    assert "mso-line-height-rule" in control.stderr  # cssutils does complain about these

    ours = run_python(
        "import logging; logging.basicConfig(level=logging.DEBUG)\n"
        "from digest.render.inline import inline_css\n"
        f"print(inline_css('<html><head><style>{CSS_WITH_MSO}</style></head>'"
        "                  '<body><table><tr><td>x</td></tr></table></body></html>'))")
    assert ours.returncode == 0, ours.stderr
    assert "mso-line-height-rule:exactly" in ours.stdout.replace(" ", "")
    assert "CSSUTILS" not in ours.stderr and "mso-" not in ours.stderr
