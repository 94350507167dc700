"""Sample data written for this project: four small feeds (~30 stories), two lists, 25 readers.

The feeds are written as real RSS and Atom files with publication times relative to now,
so the demo always has fresh news, and then go through the ordinary ingestion path.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

from sqlmodel import Session, select

from digest.models import DigestList, Subscriber, Subscription, SubscriptionStatus, utcnow

DATA = json.loads((Path(__file__).parent / "stories.json").read_text(encoding="utf-8"))


def _story_url(feed: dict, story: dict) -> str:
    site = DATA["feeds"][story.get("site_of", story["feed"])]["site"]
    url = f"{site}/news/{story['slug']}"
    return url + "?utm_source=rss&utm_medium=feed" if story.get("utm") else url


def write_feeds(directory: Path, now: datetime | None = None) -> list[tuple[Path, dict]]:
    """Write the sample feeds; returns (path, feed description) pairs."""
    now = now or utcnow()
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for index, feed in enumerate(DATA["feeds"]):
        stories = [s for s in DATA["stories"] if s["feed"] == index]
        render = _rss if feed["format"] == "rss" else _atom
        path = directory / feed["file"]
        path.write_text(render(feed, stories, now), encoding="utf-8")
        written.append((path, feed))
    return written


def _rss(feed: dict, stories: list[dict], now: datetime) -> str:
    items = "".join(
        f"<item><title>{escape(s['title'])}</title><link>{escape(_story_url(feed, s))}</link>"
        f"<guid isPermaLink=\"false\">{escape(feed['site'])}/{s['slug']}</guid>"
        f"<pubDate>{format_datetime(now - timedelta(hours=s['hours_ago']))}</pubDate>"
        f"<description>{escape(s['summary'])}</description></item>\n"
        for s in stories)
    return (f'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
            f"<title>{escape(feed['title'])}</title><link>{feed['site']}</link>"
            f"<description>Sample feed</description>\n{items}</channel></rss>\n")


def _atom(feed: dict, stories: list[dict], now: datetime) -> str:
    entries = "".join(
        f"<entry><title>{escape(s['title'])}</title>"
        f"<link rel=\"alternate\" href=\"{escape(_story_url(feed, s))}\"/>"
        f"<id>tag:{feed['site'].split('//')[1]},2026:{s['slug']}</id>"
        f"<updated>{(now - timedelta(hours=s['hours_ago'])).isoformat()}</updated>"
        f"<summary type=\"html\">{escape('<p>' + escape(s['summary']) + '</p>')}</summary></entry>\n"
        for s in stories)
    return (f'<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
            f"<title>{escape(feed['title'])}</title><id>{feed['site']}/</id>"
            f"<updated>{now.isoformat()}</updated>\n{entries}</feed>\n")


def load_lists_and_subscribers(session: Session) -> tuple[int, int]:
    """Create the sample lists and subscribers if missing; returns (lists, subscribers) added."""
    lists_added = subscribers_added = 0
    lists = {}
    for spec in DATA["lists"]:
        digest_list = session.exec(select(DigestList).where(DigestList.slug == spec["slug"])).one_or_none()
        if digest_list is None:
            digest_list = DigestList(**spec)
            session.add(digest_list)
            session.flush()
            lists_added += 1
        lists[spec["slug"]] = digest_list
    for spec in DATA["subscribers"]:
        if session.exec(select(Subscriber).where(Subscriber.email == spec["email"])).one_or_none():
            continue
        subscriber = Subscriber(email=spec["email"], name=spec["name"])
        session.add(subscriber)
        session.flush()
        subscribers_added += 1
        for slug, status in spec["lists"].items():
            now = utcnow()
            session.add(Subscription(
                subscriber_id=subscriber.id, list_id=lists[slug].id, status=status,
                confirmed_at=now if status != SubscriptionStatus.PENDING else None,
                unsubscribed_at=now if status == SubscriptionStatus.UNSUBSCRIBED else None))
    session.flush()
    return lists_added, subscribers_added
