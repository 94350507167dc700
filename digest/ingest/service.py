"""Ingestion services: feed bytes into stories, one source's failure never stopping the rest.

A run over due sources claims each source (so a second beat or worker skips it), fetches
it, stores its entries in a savepoint and commits, source by source: a slow or broken
feed neither holds a transaction open for the others nor undoes their work. Whatever goes
wrong with one feed is recorded on its source (`last_error`, `consecutive_failures`, a
backed-off `next_poll_at`) and the run goes on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, or_, update
from sqlmodel import Session, select

from digest import metrics
from digest.celery_app import enqueue
from digest.db import in_chunks, session_scope
from digest.ingest import fetch_log
from digest.ingest.clean import canonical_url
from digest.ingest.dedupe import FeedItem, match_feed
from digest.ingest.enrich import fetch_article, needs_article
from digest.ingest.fetch import FetchError, FetchLimits, fetch, limits_from
from digest.ingest.parse import Entry, FeedRejected, parse_feed
from digest.logs import event
from digest.models import Source, Story, StorySource, utcnow
from digest.settings import Settings

log = logging.getLogger(__name__)

# A claimed source is not due again for this long, even if its run dies half-way.
CLAIM_MINUTES = 15
MAX_BACKOFF_MINUTES = 24 * 60


@dataclass
class IngestReport:
    source: str
    source_id: int | None = None
    found: int = 0             # usable entries in the feed
    added: int = 0             # new stories
    duplicates: int = 0        # new sightings of stories already stored (another feed, URL...)
    skipped: int = 0           # entries without a usable link
    not_modified: bool = False
    error: str | None = None
    # (outcome, title) per entry: "new", "sighting" (stored from another source or URL),
    # "known" (this source reported it before).
    entries: list[tuple[str, str]] = field(default_factory=list)

    @property
    def outcome(self) -> str:
        """"error", "not_modified" or "ok": the fetch log's and the metrics' word for it."""
        return "error" if self.error else "not_modified" if self.not_modified else "ok"

    def summary(self) -> str:
        if self.error:
            return f"rejected: {self.error}"
        if self.not_modified:
            return "not modified"
        parts = [f"{self.found} entries", f"{self.added} new"]
        if self.duplicates:
            parts.append(f"{self.duplicates} seen elsewhere")
        if self.skipped:
            parts.append(f"{self.skipped} without a link skipped")
        return ", ".join(parts)


def get_or_create_source(session: Session, *, url: str, name: str, section: str = "news",
                         weight: float = 1.0) -> Source:
    source = session.exec(select(Source).where(Source.url == url)).one_or_none()
    if source is None:
        source = Source(url=url, name=name, section=section, weight=weight)
        session.add(source)
        session.flush()
    return source


def ingest_file(session: Session, path: Path, *, name: str | None = None, section: str = "news",
                weight: float = 1.0, settings: Settings | None = None) -> IngestReport:
    """Ingest a local feed file under a source named after the file (articles never fetched)."""
    report = _read_file(session, path, name=name, section=section, weight=weight, settings=settings)
    fetch_log.record(session, report)
    return report


def _read_file(session: Session, path: Path, *, name: str | None, section: str, weight: float,
               settings: Settings | None) -> IngestReport:
    limits = limits_from(settings) if settings else FetchLimits()
    source = get_or_create_source(session, url=path.resolve().as_uri(), name=name or path.stem,
                                  section=section, weight=weight)
    # Committed now: on SQLite a pending insert would hold the write lock while the feed is
    # read and matched, which takes as long as the feed is large.
    session.commit()
    try:
        with path.open("rb") as handle:
            data = handle.read(limits.max_bytes + 1)
    except OSError as exc:
        return _failed(source, f"cannot read {path}: {exc.strerror or exc}")
    if len(data) > limits.max_bytes:
        return _failed(source, f"file larger than the {limits.max_bytes}-byte limit")
    return _ingest_bytes(session, source, data, base_url=None, content_type=None, limits=None)


def ingest_source(session: Session, source: Source, settings: Settings) -> IngestReport:
    """Fetch one HTTP source and store its new stories; any failure is recorded on the source."""
    report = _fetch_and_store(session, source, settings)
    metrics.INGEST_FETCHES.labels(report.outcome).inc()
    fetch_log.record(session, report)
    event(log, "ingest_source", "ingest {source} (source {source_id}): {summary}",
          level=logging.WARNING if report.error else logging.INFO, source=source.name,
          source_id=source.id, outcome=report.outcome, new_stories=report.added, summary=report.summary())
    return report


def _fetch_and_store(session: Session, source: Source, settings: Settings) -> IngestReport:
    limits = limits_from(settings)
    try:
        result = fetch(source.url, limits, etag=source.etag, last_modified=source.last_modified,
                       accept="application/rss+xml, application/atom+xml, application/feed+json, "
                              "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5")
    except FetchError as exc:
        return _failed(source, str(exc))
    except Exception as exc:  # noqa: BLE001 - a bug met by one feed must not stop the run
        return _unexpected(source, "fetching", exc)
    if result.content is None:
        return _succeeded(source, IngestReport(source.name, source.id, not_modified=True))
    report = _ingest_bytes(session, source, result.content, base_url=result.url,
                           content_type=result.content_type,
                           limits=limits if settings.fetch_articles else None)
    if report.error is None:
        # Only a feed that was stored earns the validators: a rejected body is fetched again.
        source.etag, source.last_modified = result.etag, result.last_modified
    return report


def due_source_ids(session: Session, now: datetime | None = None) -> list[int]:
    now = now or utcnow()
    return list(session.exec(
        select(Source.id).where(Source.active, Source.url.startswith("http"))
        .where(or_(Source.next_poll_at.is_(None), Source.next_poll_at <= now))
        .order_by(Source.next_poll_at.is_not(None), Source.next_poll_at, Source.id)).all())


def ingest_due(session: Session, settings: Settings, *,
               progress: Callable[[IngestReport, int], None] | None = None) -> list[IngestReport]:
    """Ingest every due, active source, committing after each one; `progress` is called
    after each commit with its report and how many sources were due."""
    reports = []
    fetch_log.prune(session)
    session.commit()
    due = due_source_ids(session)
    for source_id in due:
        if not claim_source(session, source_id):
            continue  # another worker took it
        source = session.get(Source, source_id)
        report = ingest_source(session, source, settings)
        session.commit()
        reports.append(report)
        if progress:
            progress(report, len(due))
    return reports


def ingest_due_or_queue(settings: Settings, *, progress: Callable[[IngestReport, int], None] | None = None
                        ) -> list[IngestReport] | None:
    """What `digest ingest` and POST /api/ingest do: with a broker, queue the workers' task
    and return None; else fetch every due source here (see ingest_due)."""
    if settings.broker_url:
        enqueue(settings, "digest.ingest_due")
        return None
    with session_scope(settings.database_url) as session:
        return ingest_due(session, settings, progress=progress)


def claim_source(session: Session, source_id: int) -> bool:
    """Take a due source for this run (one conditional UPDATE, committed); False if another
    run took it first or it is no longer due."""
    now = utcnow()
    claimed = session.execute(
        update(Source).where(Source.id == source_id, Source.active)
        .where(or_(Source.next_poll_at.is_(None), Source.next_poll_at <= now))
        .values(next_poll_at=now + timedelta(minutes=CLAIM_MINUTES))
        .execution_options(synchronize_session=False)).rowcount == 1
    session.commit()
    return claimed


def _ingest_bytes(session: Session, source: Source, data: bytes, *, base_url: str | None,
                  content_type: str | None, limits: FetchLimits | None) -> IngestReport:
    """Parse and store; `limits` set means: fetch the article page of teaser-only entries."""
    try:
        feed = parse_feed(data, base_url, content_type)
    except FeedRejected as exc:
        return _failed(source, str(exc))
    except Exception as exc:  # noqa: BLE001 - a bug met by one feed must not stop the run
        return _unexpected(source, "parsing", exc)
    report = IngestReport(source.name, source.id, found=len(feed.entries), skipped=feed.skipped)
    try:
        # Matching and article pages first, with nothing written: SQLite has one write lock
        # (a concurrent unsubscribe waits for it, 30 s at most), held only for the inserts.
        planned = _plan(session, source, feed.entries, limits, report)
        # A savepoint: an unexpected error leaves nothing of this feed half-written.
        with session.begin_nested():
            _write(session, source, planned)
    except Exception as exc:  # noqa: BLE001 - one feed's failure must not stop the run
        return _unexpected(source, "storing entries", exc)
    return _succeeded(source, report)


def _plan(session: Session, source: Source, entries: list[Entry], limits: FetchLimits | None,
          report: IngestReport) -> list[tuple[Entry, dict | int]]:
    """The sightings to record, in feed order, each with its new story's row or the id of the
    stored one: nothing when this source has already reported the story ("known"). Counts
    each entry's outcome in `report`. Reads only."""
    now = utcnow()
    items = [FeedItem(canonical_url(entry.url), entry.guid, entry.title,
                      # Missing or future dates (clock skew, scheduled posts): first seen now.
                      entry.published_at if entry.published_at and entry.published_at <= now
                      else now, entry.language)
             for entry in entries]
    planned: list[tuple[Entry, dict | int]] = []
    outcomes = match_feed(session, source.id, items)
    for entry, item, (outcome, story_id) in zip(entries, items, outcomes, strict=True):
        report.entries.append((outcome, entry.title))
        report.added += outcome == "new"
        report.duplicates += outcome == "sighting"
        if outcome == "new":
            planned.append((entry, _new_story(source, entry, item.canonical_url,
                                              item.published_at, limits)))
        elif outcome == "sighting":
            planned.append((entry, story_id))
    return planned


def _write(session: Session, source: Source, planned: list[tuple[Entry, dict | int]]) -> None:
    """The planned stories and sightings, each table in one executemany: as rows rather than
    ORM objects, which SQLite would be sent one INSERT ... RETURNING at a time."""
    stories = [story for _, story in planned if isinstance(story, dict)]
    if stories:
        session.execute(insert(Story.__table__), stories)
    # A canonical URL is one story: that is how the new stories' ids are found.
    new_ids = dict(in_chunks(session, select(Story.canonical_url, Story.id), Story.canonical_url,
                             {story["canonical_url"] for story in stories}))
    if planned:
        session.execute(insert(StorySource.__table__), [
            {"story_id": new_ids[story["canonical_url"]] if isinstance(story, dict) else story,
             "source_id": source.id, "url": entry.url, "guid": entry.guid}
            for entry, story in planned])


def _new_story(source: Source, entry: Entry, canonical: str, published: datetime,
               limits: FetchLimits | None) -> dict:
    text, image = entry.text, entry.image_url
    if limits is not None and needs_article(entry):
        article = fetch_article(entry.url, limits)
        if article is not None:
            text, image = article.text, image or article.image_url
    return {
        # Readers get the link without tracking parameters; the sighting keeps it as found.
        "source_id": source.id, "canonical_url": canonical, "url": canonical, "guid": entry.guid,
        "title": entry.title, "summary_html": entry.summary_html, "text": text,
        "author": entry.author, "image_url": image, "categories": entry.categories,
        "section": source.section, "published_at": published, "language": entry.language}


def _succeeded(source: Source, report: IngestReport) -> IngestReport:
    now = utcnow()
    source.last_success_at = now
    source.consecutive_failures = 0
    source.last_error = None
    source.next_poll_at = now + timedelta(minutes=source.poll_interval_minutes)
    return report


def _failed(source: Source, reason: str) -> IngestReport:
    now = utcnow()
    source.last_error, source.last_error_at = reason, now
    source.consecutive_failures += 1
    # Back off exponentially, capped at a day, so a dead feed is not hammered.
    backoff = min(source.poll_interval_minutes * 2 ** source.consecutive_failures,
                  MAX_BACKOFF_MINUTES)
    source.next_poll_at = now + timedelta(minutes=backoff)
    return IngestReport(source.name, source.id, error=reason)


def _unexpected(source: Source, doing: str, exc: Exception) -> IngestReport:
    """A bug or a limit of Python met by one feed: logged with its traceback and recorded on
    the source, naming the exception, like any feed error."""
    log.exception("%s source %s failed unexpectedly", doing, source.id)
    return _failed(source, f"unexpected {type(exc).__name__} while {doing}: {exc}"[:500])
