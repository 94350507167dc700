"""The pre-send check: what would make the mail clipped, broken or unlawful in an inbox.

Run on the rendering with every story (the topic variants hold a subset of it), personalised
for a made-up reader so that sizes and links are those of a real message. Each finding says
what is wrong and what to change; a send does not start while there is one.
"""

from __future__ import annotations

from dataclasses import dataclass

import lxml.html
from sqlmodel import Session

from digest.mail.message import _qp
from digest.models import Edition
from digest.render.digest import Personal, Rendered, personalise, render_edition
from digest.settings import Settings

# Gmail clips a message near 102 KB and hides the rest (the footer with the unsubscribe link
# first); keep the HTML part, as sent (quoted-printable), clear of it.
MAX_HTML_BYTES = 90 * 1024
# RFC 5322: a line is at most 998 characters; relays may break longer ones anywhere.
MAX_LINE = 998
# Gmail ignores a <style> block larger than this, taking the phone and dark-mode rules with it.
MAX_STYLE_BYTES = 16 * 1024


@dataclass(frozen=True)
class Finding:
    check: str    # a short name: size, line, alt, link, image, style, unsubscribe, markup
    message: str  # what is wrong and what to change


def check_edition(session: Session, settings: Settings, edition: Edition, personal: Personal,
                  shared: Rendered | None = None) -> list[Finding]:
    """Check `edition` with every story (its shared rendering, rendered now unless given),
    personalised with a made-up reader's `personal` values; an empty list means it may be
    sent. Topic variants are subsets of it."""
    shared = shared or render_edition(session, settings, edition)
    return check_rendered(personalise(shared, personal), personal.unsubscribe_url)


def check_rendered(rendered: Rendered, unsubscribe_url: str) -> list[Finding]:
    """The findings for one personalised message whose unsubscribe link is `unsubscribe_url`."""
    findings = []
    size = len(_qp(rendered.html))  # the very encoding (and CRLF line ends) the mail uses
    if size > MAX_HTML_BYTES:
        findings.append(Finding("size", (
            f"the HTML part is {size / 1024:.1f} KB encoded, over the {MAX_HTML_BYTES // 1024} KB "
            "limit (Gmail clips messages near 102 KB): remove stories or shorten summaries")))
    for part, body in (("HTML", rendered.html), ("text", rendered.text)):
        for number, line in enumerate(body.splitlines(), 1):
            if len(line) > MAX_LINE:
                findings.append(Finding("line", (
                    f"line {number} of the {part} part is {len(line)} characters, over "
                    f"{MAX_LINE}: break it (it starts {line[:60]!r})")))
    document = lxml.html.document_fromstring(rendered.html)
    for image in document.iter("img"):
        src = image.get("src", "")
        if not (image.get("alt") or "").strip():
            findings.append(Finding("alt", f"image {src!r} has no alt text: add one"))
        if not src.startswith("https://"):
            findings.append(Finding("image", f"image {src!r} is not an absolute https URL"))
    for link in document.iter("a"):
        href = link.get("href", "")
        if not href.startswith(("https://", "http://")):
            text = " ".join(link.text_content().split())[:60]
            findings.append(Finding("link", (
                f"link {text!r} goes to {href!r}: every link must be an absolute http(s) URL")))
    for style in document.iter("style"):
        size = len((style.text or "").encode("utf-8"))
        if size > MAX_STYLE_BYTES:
            findings.append(Finding("style", (
                f"a <style> block is {size / 1024:.1f} KB, over {MAX_STYLE_BYTES // 1024} KB "
                "(Gmail drops it): trim the stylesheet in templates/email/digest.css")))
    for element in ("script", "form", "iframe", "object", "embed"):
        if next(document.iter(element), None) is not None:
            findings.append(Finding("markup", f"the HTML has a <{element}>, which mail clients "
                                              "strip or block: remove it from the template"))
    if not any(link.get("href") == unsubscribe_url for link in document.iter("a")):
        findings.append(Finding("unsubscribe", (
            "the HTML part has no unsubscribe link: keep {{ unsubscribe_url }} in the footer")))
    if unsubscribe_url not in rendered.text:
        findings.append(Finding("unsubscribe", (
            "the text part has no unsubscribe link: keep {{ unsubscribe_url }} in digest.txt")))
    return findings


def format_findings(edition_id: int, findings: list[Finding]) -> str:
    lines = [f"edition {edition_id} failed the pre-send check; fix these and send again:"]
    lines += [f"  - [{f.check}] {f.message}" for f in findings]
    return "\n".join(lines)
