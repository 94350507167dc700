"""Small feeds written for these tests."""

from __future__ import annotations

from datetime import timedelta
from email.utils import format_datetime
from xml.sax.saxutils import escape

from digest.models import utcnow


def rss(items: list[dict], title: str = "Test feed", link: str = "https://news.example.org/") -> bytes:
    """RSS 2.0 from dicts with title, link, and optionally guid, description, hours_ago."""
    now = utcnow()
    body = "".join(
        "<item>"
        f"<title>{escape(item['title'])}</title><link>{escape(item['link'])}</link>"
        + (f"<guid isPermaLink=\"false\">{escape(item['guid'])}</guid>" if item.get("guid") else "")
        + f"<pubDate>{format_datetime(now - timedelta(hours=item.get('hours_ago', 1)))}</pubDate>"
        + f"<description>{escape(item.get('description', 'A line of summary.'))}</description>"
        "</item>\n"
        for item in items)
    return (f'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
            f"<title>{escape(title)}</title><link>{escape(link)}</link>"
            f"<description>Tests</description>\n{body}</channel></rss>\n").encode()
