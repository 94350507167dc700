"""The console's pictures for ops: a send over time, a list's recent editions, each source's
fetches by day. Numbers come from the ledger, the deliverability report and the fetch log;
digest.web.charts turns them into charts."""

from __future__ import annotations

from sqlmodel import Session, select

from digest.bounces.report import COMPLAINT_WARNING, HARD_BOUNCE_WARNING, edition_reports
from digest.ingest import fetch_log
from digest.models import Edition
from digest.send.timeline import STATUSES, send_timeline
from digest.web.charts import BarChart, Series, bar_chart, percent

#: Each status's colour class (templates/web/staff/chart.html).
TONES = {"sent": "info", "deferred": "warn", "bounced": "bad", "failed": "alt"}
LIST_EDITIONS = 20
SOURCE_DAYS = 14


def send_picture(session: Session, edition_id: int) -> BarChart:
    timeline = send_timeline(session, edition_id)
    start = f" from {timeline.start:%Y-%m-%d %H:%M:%S} UTC" if timeline.start else ""
    return bar_chart(
        f"Deliveries over time{start}, cumulative",
        [timeline.label(i) for i in range(len(timeline.ends))],
        [Series(str(s), timeline.counts[s], TONES[s]) for s in STATUSES],
        axis=f"time since the start (steps of {timeline.step_seconds} s)",
        empty="Nothing has been sent yet.")


def list_pictures(session: Session, list_id: int) -> list[BarChart]:
    """Size, hard-bounce rate, complaint rate and clicks of the list's last editions sent."""
    editions = list(reversed(session.exec(
        select(Edition).where(Edition.list_id == list_id, Edition.send_started_at.is_not(None))
        .order_by(Edition.send_started_at.desc()).limit(LIST_EDITIONS)).all()))
    reports = edition_reports(session, [e.id for e in editions])
    names = [f"#{e.id}" for e in editions]
    of = [reports[e.id] for e in editions]
    axis = f"edition (last {LIST_EDITIONS} sent, oldest first)"
    empty = "No edition of this list has been sent yet."

    def chart(title: str, name: str, values: list[float], tone: str, **options) -> BarChart:
        return bar_chart(title, names, [Series(name, values, tone)], axis=axis, empty=empty, **options)

    return [
        chart("Recipients per edition", "recipients", [r.attempted for r in of], "info"),
        chart("Hard-bounce rate", "hard bounces", [r.hard_bounce_rate for r in of], "bad", fmt=percent,
              threshold=(HARD_BOUNCE_WARNING, f"warning {percent(HARD_BOUNCE_WARNING)}")),
        chart("Complaint rate", "complaints", [r.complaint_rate for r in of], "warn", fmt=percent,
              threshold=(COMPLAINT_WARNING, f"warning {percent(COMPLAINT_WARNING)}")),
        chart("Clicks per edition", "clicks", [r.clicks for r in of], "ok"),
    ]


def source_pictures(session: Session) -> dict[int, tuple[BarChart, BarChart]]:
    """Per source with fetches in the last SOURCE_DAYS: fetches per day (ok, failed) and new
    stories per day."""
    pictures = {}
    for source_id, days in fetch_log.daily(session, SOURCE_DAYS).items():
        names = [f"{d.day.day} {d.day:%b}" for d in days]
        axis = f"day (UTC, last {SOURCE_DAYS})"
        pictures[source_id] = (
            bar_chart("Fetches per day", names, [Series("ok", [d.ok for d in days], "ok"),
                                                 Series("failed", [d.failed for d in days], "bad")],
                      axis=axis),
            bar_chart("New stories per day", names, [Series("new stories", [d.new_stories for d in days], "info")],
                      axis=axis))
    return pictures
