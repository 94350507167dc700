"""Ingestion services: feed bytes into stories, one source's failure never stopping the rest."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlmodel import Session, select

from digest.ingest.clean import canonical_url
from digest.ingest.fetch import FetchError, fetch
from digest.ingest.parse import Entry, FeedRejected, parse_feed
from digest.models import Source, Story, StorySource, utcnow


@dataclass
class IngestReport:
    source: str
    found: int = 0
    added: int = 0
    error: str | None = None
    titles: list[str] = field(default_factory=list)


def get_or_create_source(session: Session, *, url: str, name: str, section: str = "news",
                         weight: float = 1.0) -> Source:
    source = session.exec(select(Source).where(Source.url == url)).one_or_none()
    if source is None:
        source = Source(url=url, name=name, section=section, weight=weight)
        session.add(source)
        session.flush()
    return source


def ingest_file(session: Session, path: Path, *, name: str | None = None, section: str = "news",
                weight: float = 1.0) -> IngestReport:
    """Ingest a local feed file under a source named after the file."""
    source = get_or_create_source(session, url=path.resolve().as_uri(), name=name or path.stem,
                                  section=section, weight=weight)
    return _ingest_bytes(session, source, path.read_bytes(), base_url=None)


def ingest_source(session: Session, source: Source, *, allow_private: bool = False) -> IngestReport:
    """Fetch one HTTP source and store its new stories; a failure is recorded on the source."""
    try:
        result = fetch(source.url, etag=source.etag, last_modified=source.last_modified,
                       allow_private=allow_private)
    except FetchError as exc:
        return _failed(source, str(exc))
    source.etag, source.last_modified = result.etag, result.last_modified
    if result.content is None:
        return _succeeded(source, IngestReport(source.name))
    return _ingest_bytes(session, source, result.content, base_url=result.url)


def ingest_due(session: Session, *, allow_private: bool = False) -> list[IngestReport]:
    now = utcnow()
    due = session.exec(
        select(Source).where(Source.active, Source.url.startswith("http"))
        .where((Source.next_poll_at.is_(None)) | (Source.next_poll_at <= now))
        .order_by(Source.id)
    ).all()
    reports = []
    for source in due:
        # One savepoint per source: a database error in one feed leaves the others intact.
        with session.begin_nested():
            reports.append(ingest_source(session, source, allow_private=allow_private))
    return reports


def _ingest_bytes(session: Session, source: Source, data: bytes, base_url: str | None) -> IngestReport:
    try:
        entries = parse_feed(data, base_url)
    except FeedRejected as exc:
        return _failed(source, str(exc))
    report = IngestReport(source.name, found=len(entries))
    for entry in entries:
        if _store(session, source, entry):
            report.added += 1
            report.titles.append(entry.title)
    return _succeeded(source, report)


def _store(session: Session, source: Source, entry: Entry) -> bool:
    """Store a new story, or record another sighting of a known one; True if new."""
    canonical = canonical_url(entry.url)
    story_id = session.exec(select(Story.id).where(Story.canonical_url == canonical)).first()
    is_new = story_id is None
    if is_new:
        now = utcnow()
        published = entry.published_at if entry.published_at and entry.published_at <= now else now
        story = Story(
            source_id=source.id, canonical_url=canonical, url=entry.url, guid=entry.guid,
            title=entry.title, summary_html=entry.summary_html, text=entry.text,
            author=entry.author, image_url=entry.image_url, categories=entry.categories,
            section=source.section, published_at=published,
        )
        session.add(story)
        session.flush()
        story_id = story.id
    seen = session.exec(select(StorySource.id).where(
        StorySource.story_id == story_id, StorySource.source_id == source.id)).first()
    if seen is None:
        session.add(StorySource(story_id=story_id, source_id=source.id, url=entry.url, guid=entry.guid))
        session.flush()
    return is_new


def _succeeded(source: Source, report: IngestReport) -> IngestReport:
    now = utcnow()
    source.last_success_at = now
    source.consecutive_failures = 0
    source.last_error = None
    source.next_poll_at = now + timedelta(minutes=source.poll_interval_minutes)
    return report


def _failed(source: Source, reason: str) -> IngestReport:
    now: datetime = utcnow()
    source.last_error, source.last_error_at = reason, now
    source.consecutive_failures += 1
    # Back off exponentially, capped at a day, so a dead feed is not hammered.
    backoff = min(source.poll_interval_minutes * 2 ** source.consecutive_failures, 24 * 60)
    source.next_poll_at = now + timedelta(minutes=backoff)
    return IngestReport(source.name, error=reason)
