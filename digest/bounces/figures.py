"""An edition's deliverability figures as people and programs read them: `digest send
status`, the console's send page and the API's progress JSON all show these."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, select

from digest.bounces.report import EditionReport, edition_reports
from digest.models import EditionItem


@dataclass(frozen=True)
class StoryClicks:
    story_id: int
    headline: str
    clicks: int


@dataclass(frozen=True)
class Figures:
    report: EditionReport
    stories: list[StoryClicks]  # clicked stories, most clicked first

    def as_json(self) -> dict:
        r = self.report
        return {"sent": r.sent, "refused": r.refused, "hard_bounces": r.hard, "soft_bounces": r.soft,
                "complaints": r.complaints, "unsubscribes": r.unsubscribes, "clicks": r.clicks,
                "clickers": r.clickers, "hard_bounce_rate": round(r.hard_bounce_rate, 4),
                "complaint_rate": round(r.complaint_rate, 4), "click_rate": round(r.click_rate, 4),
                "stories": [{"story_id": s.story_id, "headline": s.headline, "clicks": s.clicks}
                            for s in self.stories],
                "warnings": r.warnings()}

    def lines(self) -> list[str]:
        r = self.report
        lines = [f"  delivered {r.sent}  refused {r.refused}  hard bounces {r.hard} "
                 f"({r.hard_bounce_rate:.2%})  soft bounces {r.soft}  complaints {r.complaints} "
                 f"({r.complaint_rate:.2%})  unsubscribes {r.unsubscribes}",
                 f"  clicks {r.clicks} by {r.clickers} readers ({r.click_rate:.1%} of those delivered)"]
        lines += [f"    {s.clicks:>6}  {s.headline}" for s in self.stories]
        lines += [f"  WARNING: {warning}" for warning in r.warnings()]
        return lines


def edition_figures(session: Session, edition_id: int) -> Figures:
    report = edition_reports(session, [edition_id])[edition_id]
    headlines = dict(session.exec(select(EditionItem.story_id, EditionItem.headline)
                                  .where(EditionItem.edition_id == edition_id)).all())
    return Figures(report, [StoryClicks(story_id, headlines.get(story_id, f"story {story_id}"), n)
                            for story_id, n in report.story_clicks.items()])
