"""A log of source fetches, a row per fetch, for the console's picture of feed health.

`last_error` and `consecutive_failures` on the source say how it is now; this says how it
went day by day. Rows older than FETCH_LOG_DAYS are pruned at each ingest run.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import delete
from sqlmodel import Session, select

from digest.models import FetchLog, utcnow

if TYPE_CHECKING:
    from digest.ingest.service import IngestReport

FETCH_LOG_DAYS = 30


@dataclass(frozen=True)
class Day:
    day: date
    ok: int = 0        # fetched and stored, or not modified
    failed: int = 0
    new_stories: int = 0


def record(session: Session, report: IngestReport) -> None:
    """Log one fetch (of a feed over http(s) or a local file); committed with its stories."""
    session.add(FetchLog(source_id=report.source_id, outcome=report.outcome, new_stories=report.added))


def prune(session: Session, now: datetime | None = None) -> int:
    cutoff = (now or utcnow()) - timedelta(days=FETCH_LOG_DAYS)
    return session.execute(delete(FetchLog).where(FetchLog.at < cutoff)).rowcount


def daily(session: Session, days: int, now: datetime | None = None) -> dict[int, list[Day]]:
    """Per source with fetches, its last `days` UTC days (oldest first, today last)."""
    today = (now or utcnow()).date()
    first = today - timedelta(days=days - 1)
    since = datetime.combine(first, time(), tzinfo=UTC)
    tallies: dict[int, dict[date, list[int]]] = {}
    for source_id, at, outcome, new in session.exec(select(
            FetchLog.source_id, FetchLog.at, FetchLog.outcome, FetchLog.new_stories)
            .where(FetchLog.at >= since)).all():
        tally = tallies.setdefault(source_id, {}).setdefault(at.date(), [0, 0, 0])
        tally[outcome == "error"] += 1
        tally[2] += new
    return {source_id: [Day(d, *by_day.get(d, (0, 0, 0)))
                        for d in (first + timedelta(days=i) for i in range(days))]
            for source_id, by_day in tallies.items()}
