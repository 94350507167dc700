"""Small feeds written for these tests."""

from __future__ import annotations

import random
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


def headlines(count: int, seed: int = 13) -> list[str]:
    """`count` synthetic headlines of 5-9 words drawn with Zipf-like frequencies (a few words
    common, most rare, as in real feeds); every 20th is a light edit of an earlier one (a site
    suffix or one more word), so the near-duplicate check has repeats to find."""
    rng = random.Random(seed)
    syllables = "ba ko ri tem lu sor vin da mel quo ra ne pil tu gas fe".split()
    words = ["".join(rng.choices(syllables, k=rng.randint(2, 3))) for _ in range(4000)]
    weights = [1 / (rank + 1) for rank in range(len(words))]
    titles: list[str] = []
    for n in range(count):
        if n % 20 == 19:
            earlier = rng.choice(titles)
            titles.append(rng.choice([f"{earlier} - Wire Service", f"{earlier} {rng.choice(words)}"]))
        else:
            titles.append(" ".join(rng.choices(words, weights, k=rng.randint(5, 9))).capitalize())
    return titles
