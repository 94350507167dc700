"""Main text of an article page, for the summariser: trafilatura, given bytes, offline."""

from __future__ import annotations

from dataclasses import dataclass

import trafilatura

from digest.ingest.clean import absolute_http_url, plain_text


MIN_PARAGRAPH_WORDS = 8


@dataclass(frozen=True)
class Article:
    title: str
    text: str                # paragraphs separated by blank lines, no markup
    description: str         # the publisher's own summary (meta description), if any
    author: str | None
    image_url: str | None    # og:image or similar, absolute http(s)


def extract_article(html: bytes, url: str | None = None) -> Article | None:
    """The article in `html`, or None if the page has no extractable main text."""
    document = trafilatura.bare_extraction(
        html, url=url, with_metadata=True, favor_precision=True,
        include_comments=False, include_tables=False, include_images=False)
    if document is None or not (document.text or "").strip():
        return None
    title = plain_text(document.title)
    paragraphs = [" ".join(line.split()) for line in document.text.splitlines()]
    # The headline often comes back as the first line of the text; it is not body text.
    paragraphs = [p for p in paragraphs if p and p != title]
    if not any(len(p.split()) >= MIN_PARAGRAPH_WORDS for p in paragraphs):
        return None  # navigation or an error page, not an article
    return Article(
        title=title,
        text="\n\n".join(paragraphs),
        description=plain_text(document.description),
        author=plain_text(document.author) or None,
        image_url=absolute_http_url(document.image, url),
    )
