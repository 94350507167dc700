"""Small constructed newsrooms for curation tests: sources, stories, lists, editions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import Session

from digest.models import DigestList, Source, Story, StorySource

NOW = datetime(2026, 11, 27, 5, 0, tzinfo=UTC)
SLOT = datetime(2026, 11, 27, 7, 0, tzinfo=UTC)


def source(session: Session, site: str, *, weight: float = 1.0, section: str = "news") -> Source:
    feed = Source(name=site, url=f"https://{site}/feed.xml", weight=weight, section=section)
    session.add(feed)
    session.flush()
    return feed


def story(session: Session, feed: Source, slug: str, *, hours_ago: float = 1.0,
          also_in: tuple[Source, ...] = (), text: str | None = None, **fields) -> Story:
    """A story first seen in `feed` and also carried by the `also_in` sources."""
    site = feed.url.split("/")[2]
    item = Story(source_id=feed.id, canonical_url=f"https://{site}/{slug}", url=f"https://{site}/{slug}",
                 title=fields.pop("title", slug.replace("-", " ").capitalize()),
                 text=text if text is not None else
                 f"The {slug.replace('-', ' ')} story starts here. It has a second sentence too.",
                 section=fields.pop("section", feed.section),
                 published_at=NOW - timedelta(hours=hours_ago), **fields)
    session.add(item)
    session.flush()
    for other in (feed, *also_in):
        session.add(StorySource(story_id=item.id, source_id=other.id, url=item.url))
    session.flush()
    return item


def digest_list(session: Session, slug: str = "daily", **rules) -> DigestList:
    values = dict(name=slug.title(), min_stories=2, max_stories=5, send_time="07:00",
                  timezone="UTC")
    values.update(rules)
    found = DigestList(slug=slug, **values)
    session.add(found)
    session.flush()
    return found


def later(hours: float) -> datetime:
    return NOW + timedelta(hours=hours)
