"""A send over time: how many deliveries had each outcome by the end of each time step.

Read from the ledger: a row counts from the moment it took its current outcome
(`outcome_at`, or `sent_at` for rows sent before that column existed). A row deferred
then sent later counts as deferred until it was sent: the picture shows where every row
stands now and since when, not every attempt.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlmodel import Session

from digest.models import Delivery, DeliveryStatus, Edition, utcnow

#: The outcomes drawn, bottom first.
STATUSES = (DeliveryStatus.SENT, DeliveryStatus.DEFERRED, DeliveryStatus.BOUNCED, DeliveryStatus.FAILED)
#: Step sizes in seconds, the first giving at most MAX_STEPS steps is taken.
STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 3 * 3600, 6 * 3600,
         12 * 3600, 86400, 7 * 86400)
MAX_STEPS = 24


@dataclass(frozen=True)
class Timeline:
    start: datetime | None
    step_seconds: int
    # The end of each step as seconds since the start, and per status the cumulative count.
    ends: list[int]
    counts: dict[str, list[int]]

    def label(self, index: int) -> str:
        return elapsed(self.ends[index])


def elapsed(seconds: int) -> str:
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 2 * 3600:
        return f"{seconds // 60} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:g} h"
    return f"{seconds / 86400:g} d"


def step_for(duration: float) -> int:
    return next((s for s in STEPS if duration / s <= MAX_STEPS), STEPS[-1])


def send_timeline(session: Session, edition_id: int, now: datetime | None = None) -> Timeline:
    edition = session.get(Edition, edition_id)
    D = Delivery.__table__.c
    when = func.coalesce(D.outcome_at, D.sent_at)
    rows = session.execute(select(D.status, when).where(
        D.edition_id == edition_id, D.status.in_(STATUSES), when.is_not(None)).order_by(when)).all()
    if not rows:
        return Timeline(edition.send_started_at if edition else None, 1, [], {s: [] for s in STATUSES})
    start = min(edition.send_started_at or rows[0][1], rows[0][1])
    # A send still going is drawn up to now, a finished one up to its last outcome.
    end = rows[-1][1] if edition.status != "sending" else max(now or utcnow(), rows[-1][1])
    step = step_for(max((end - start).total_seconds(), 1))
    ends = [step * (i + 1) for i in range(max(math.ceil((end - start).total_seconds() / step), 1))]
    times: dict[str, list[float]] = {s: [] for s in STATUSES}
    for status, at in rows:
        times[status].append((at - start) / timedelta(seconds=1))
    counts = {s: [bisect_right(times[s], e) for e in ends] for s in STATUSES}
    return Timeline(start, step, ends, counts)
