"""Managing feed sources: the functions behind `digest sources` (and, later, the staff API).

Input is validated here, not at the doors: every function raises :class:`SourceError`
with a message naming the field and what is wrong, and changes nothing when it does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import delete, func
from sqlmodel import Session, select

from digest.ingest.clean import absolute_http_url
from digest.ingest.network import AddressPolicy, literal_address_refused
from digest.models import EditionItem, Source, Story, StorySource, utcnow

SECTION = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
MIN_INTERVAL_MINUTES, MAX_INTERVAL_MINUTES = 5, 7 * 24 * 60
MAX_WEIGHT = 10.0


class SourceError(ValueError):
    """A source operation was refused; the message says which field or source and why."""


@dataclass(frozen=True)
class SourceStatus:
    """A source as an operator needs to see it."""

    source: Source
    stories: int
    state: str                 # "active", "paused" or "failing"
    next_poll_at: datetime | None


def validate(*, url: str | None = None, name: str | None = None, section: str | None = None,
             weight: float | None = None, every_minutes: int | None = None) -> dict:
    """The given fields cleaned, or SourceError naming the first bad one."""
    values: dict = {}
    if url is not None:
        url = url.strip()
        if absolute_http_url(url) != url:
            raise SourceError(f"url: {url!r} is not an absolute http(s) URL")
        if urlsplit(url).username is not None:
            raise SourceError("url: credentials in the URL are not supported")
        values["url"] = url
    if name is not None:
        name = " ".join(name.split())
        if not name or len(name) > 200:
            raise SourceError("name: must be 1 to 200 characters")
        values["name"] = name
    if section is not None:
        if not SECTION.match(section):
            raise SourceError(f"section: {section!r} must be lowercase letters, digits, - or _ "
                              "(at most 64)")
        values["section"] = section
    if weight is not None:
        if not 0 < weight <= MAX_WEIGHT:
            raise SourceError(f"weight: {weight} must be above 0 and at most {MAX_WEIGHT:g}")
        values["weight"] = float(weight)
    if every_minutes is not None:
        if not MIN_INTERVAL_MINUTES <= every_minutes <= MAX_INTERVAL_MINUTES:
            raise SourceError(f"every_minutes: {every_minutes} must be between "
                              f"{MIN_INTERVAL_MINUTES} and {MAX_INTERVAL_MINUTES}")
        values["poll_interval_minutes"] = every_minutes
    return values


def add_source(session: Session, *, url: str, name: str | None = None, section: str = "news",
               weight: float = 1.0, every_minutes: int = 60,
               policy: AddressPolicy | None = None) -> Source:
    """A new active source, due at once. Its name defaults to the URL's host. With the
    fetcher's `policy`, a URL naming an address it would refuse is refused now."""
    values = validate(url=url, section=section, weight=weight, every_minutes=every_minutes)
    if policy is not None and (reason := literal_address_refused(
            urlsplit(values["url"]).hostname, policy)):
        raise SourceError(f"url: {reason}, which feeds are never fetched from "
                          "(DIGEST_FETCH_ALLOW_PRIVATE, DIGEST_FETCH_ALLOWED_HOSTS)")
    values |= validate(name=name if name is not None else urlsplit(values["url"]).hostname)
    if session.exec(select(Source.id).where(Source.url == values["url"])).first() is not None:
        raise SourceError(f"url: a source for {values['url']} already exists")
    source = Source(**values)
    session.add(source)
    session.flush()
    return source


def update_source(session: Session, source_id: int, *, name: str | None = None,
                  section: str | None = None, weight: float | None = None,
                  every_minutes: int | None = None) -> Source:
    """Change the given fields of a source (its URL is its identity: add another source)."""
    source = get_source(session, source_id)
    changes = validate(name=name, section=section, weight=weight, every_minutes=every_minutes)
    for key, value in changes.items():
        setattr(source, key, value)
    session.flush()
    return source


def get_source(session: Session, source_id: int) -> Source:
    source = session.get(Source, source_id)
    if source is None:
        raise SourceError(f"no source {source_id}")
    return source


def list_sources(session: Session) -> list[SourceStatus]:
    counts = dict(session.exec(
        select(StorySource.source_id, func.count()).group_by(StorySource.source_id)).all())
    return [
        SourceStatus(source, counts.get(source.id, 0), _state(source),
                     source.next_poll_at if source.active else None)
        for source in session.exec(select(Source).order_by(Source.id)).all()
    ]


def pause_source(session: Session, source_id: int) -> Source:
    source = get_source(session, source_id)
    source.active = False
    session.flush()
    return source


def resume_source(session: Session, source_id: int) -> Source:
    """Active again and due now, with its failure count cleared (the operator looked at it)."""
    source = get_source(session, source_id)
    source.active = True
    source.consecutive_failures = 0
    source.next_poll_at = utcnow()
    session.flush()
    return source


def remove_source(session: Session, source_id: int) -> int:
    """Delete a source and the stories only it carried; returns how many stories went.

    Stories another source also carried are kept and credited to that source. A story
    that only this source carried and that appeared in an edition is history: then the
    source cannot be removed (pause it instead).
    """
    source = get_source(session, source_id)
    mine = set(session.exec(select(StorySource.story_id).where(StorySource.source_id == source_id)))
    mine |= set(session.exec(select(Story.id).where(Story.source_id == source_id)))
    shared = set(session.exec(select(StorySource.story_id).where(
        StorySource.source_id != source_id, StorySource.story_id.in_(mine)))) if mine else set()
    doomed = mine - shared
    if doomed:
        in_editions = session.exec(select(func.count()).select_from(EditionItem).where(
            EditionItem.story_id.in_(doomed))).one()
        if in_editions:
            raise SourceError(f"source {source_id} ({source.name}): {in_editions} of its stories "
                              "appeared in editions; pause it instead")
    for story in session.exec(select(Story).where(Story.source_id == source_id,
                                                  Story.id.in_(shared))).all():
        # Credit the story to another source that carried it.
        story.source_id = session.exec(select(StorySource.source_id).where(
            StorySource.story_id == story.id, StorySource.source_id != source_id)
            .order_by(StorySource.id)).first()
    session.flush()
    session.execute(delete(StorySource).where(StorySource.source_id == source_id))
    if doomed:
        session.execute(delete(Story).where(Story.id.in_(doomed)))
    session.delete(source)
    session.flush()
    return len(doomed)


def _state(source: Source) -> str:
    if not source.active:
        return "paused"
    return "failing" if source.consecutive_failures else "active"
