"""Turning untrusted feed fields into clean, inert values."""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qsl, unquote_plus, urljoin, urlsplit, urlunsplit

import nh3

# Enough structure for a summary; nothing that can run, load or restyle.
ALLOWED_TAGS = {"a", "b", "strong", "i", "em", "p", "br", "ul", "ol", "li", "blockquote"}
ALLOWED_ATTRIBUTES = {"a": {"href"}}
TRACKING_PARAMS = re.compile(
    r"^(utm_\w+|fbclid|gclid|dclid|msclkid|mc_cid|mc_eid|yclid|_hsenc|_hsmi|igshid|ref_src)$",
    re.IGNORECASE,
)
_WS = re.compile(r"\s+")

# What a terminal acts on (ECMA-48), removed whole so that no payload is left behind:
# control strings (OSC, DCS, SOS, PM, APC: OSC 52 writes the clipboard) up to their BEL or
# ST, an unterminated one losing only its introducer; CSI (colours, cursor moves, queries
# whose answers a terminal types back); the other ESC sequences. 7-bit and 8-bit forms.
_TERMINAL_SEQUENCE = re.compile(
    r"(?:\x1b[\]PX^_]|[\x90\x98\x9d-\x9f])(?:[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c))?"
    r"|(?:\x1b\[|\x9b)[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]?"
    r"|\x1b[\x20-\x2f]*[\x30-\x7e]?"
)
# Line breaks as str.splitlines() knows them: a lone CR would let a line overwrite another.
_LINE_BREAK = re.compile(r"\r\n?|[\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # C0 but tab and newline, DEL, C1


def inert_text(value: str) -> str:
    """`value` with nothing a terminal acts on: escape sequences removed whole, line breaks
    made newlines, other C0 and C1 control characters dropped (tab and newline kept)."""
    return _without_controls(_TERMINAL_SEQUENCE.sub("", value))


def _without_controls(text: str) -> str:
    return _CONTROL.sub("", _LINE_BREAK.sub("\n", text))


def plain_text(value: str | None) -> str:
    """Markup removed, entities decoded, terminal controls removed, whitespace collapsed."""
    if not value:
        return ""
    text = nh3.clean(value, tags=set())
    # nh3 leaves entities encoded; decode twice for feeds that double-escape. Controls go
    # after decoding: "&#27;" is an ESC too.
    text = inert_text(html.unescape(html.unescape(text)))
    return _WS.sub(" ", text).strip()


def sanitise_html(value: str | None, base_url: str | None = None) -> str:
    """A small allow-list of tags; links made absolute http(s) or dropped."""
    if not value:
        return ""

    def keep_link(tag: str, attribute: str, value: str) -> str | None:
        if attribute != "href":
            return value  # e.g. the rel that nh3 adds itself
        absolute = urljoin(base_url or "", value.strip())
        return absolute if urlsplit(absolute).scheme in ("http", "https") else None

    cleaned = nh3.clean(
        inert_text(value),
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        attribute_filter=keep_link,
        url_schemes={"http", "https"},
        link_rel="noopener noreferrer",
    )
    # nh3 decodes "&#27;" into a raw ESC. Only the character goes here: matching whole
    # sequences on markup could swallow the tag that follows.
    return _without_controls(cleaned).strip()


def absolute_http_url(link: str | None, base_url: str | None = None) -> str | None:
    """The link resolved against the feed's URL, if it is http(s); otherwise None."""
    if not link:
        return None
    try:
        absolute = urljoin(base_url or "", link.strip())
        parts = urlsplit(absolute)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:  # e.g. "http://[::1" or "http://host:port/"
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return absolute


# Redirectors that carry the real target in a query parameter (Google Alerts, search results).
REDIRECTORS = {("www.google.com", "/url"): ("url", "q"), ("google.com", "/url"): ("url", "q")}


def unwrap_redirect(url: str | None) -> str | None:
    """The target of a known redirector link, else the link itself."""
    if not url:
        return url
    parts = urlsplit(url)
    names = REDIRECTORS.get(((parts.hostname or "").lower(), parts.path))
    if names:
        query = dict(parse_qsl(parts.query))
        for name in names:
            if target := absolute_http_url(query.get(name)):
                return target
    return url


def canonical_url(url: str) -> str:
    """Scheme and host lowercased, default port, fragment and tracking parameters removed."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    port = parts.port
    netloc = host if port in (None, 80 if scheme == "http" else 443) else f"{host}:{port}"
    # Kept parameters stay byte for byte as published: re-encoding could break a link.
    query = "&".join(pair for pair in parts.query.split("&")
                     if pair and not TRACKING_PARAMS.match(unquote_plus(pair.split("=", 1)[0])))
    return urlunsplit((scheme, netloc, parts.path or "/", query, ""))
