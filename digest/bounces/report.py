"""What became of an edition's mail: sent, bounced, complained about, unsubscribed, clicked.

One query per table for any number of editions, so a list's history (the console's
picture of its last editions) costs the same as one edition's report.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import distinct, func, select
from sqlmodel import Session

from digest.bounces.findings import Kind
from digest.models import Click, Delivery, DeliveryStatus, Feedback

#: Above these an edition carries a warning: Gmail and Yahoo refuse bulk senders whose
#: complaint rate passes 0.3%, so 0.1% is the time to act; 2% hard bounces means a stale list.
COMPLAINT_WARNING = 0.001
HARD_BOUNCE_WARNING = 0.02


@dataclass(frozen=True)
class EditionReport:
    edition_id: int
    sent: int = 0              # accepted by our relay
    refused: int = 0           # bounced by the relay at send time (the address is gone)
    hard: int = 0              # hard bounces that came back later
    soft: int = 0
    complaints: int = 0
    unsubscribes: int = 0      # by mail (List-Unsubscribe mailto:, a provider's event)
    clicks: int = 0            # one per (reader, story); scanners' are not counted
    clickers: int = 0          # readers who clicked anything
    story_clicks: dict[int, int] = field(default_factory=dict)  # {story id: clicks}, most first

    @property
    def attempted(self) -> int:
        return self.sent + self.refused

    @property
    def hard_bounce_rate(self) -> float:
        return (self.refused + self.hard) / self.attempted if self.attempted else 0.0

    @property
    def complaint_rate(self) -> float:
        return self.complaints / self.sent if self.sent else 0.0

    @property
    def click_rate(self) -> float:
        """Readers who clicked, per mail delivered."""
        return self.clickers / self.sent if self.sent else 0.0

    def warnings(self) -> list[str]:
        return list(self.warnings_by_kind().values())

    def warnings_by_kind(self) -> dict[str, str]:
        """{"complaints" | "hard_bounces": what is wrong}, for each rate over its threshold."""
        found = {}
        if self.complaint_rate > COMPLAINT_WARNING:
            found["complaints"] = (f"complaint rate {self.complaint_rate:.2%} is over {COMPLAINT_WARNING:.1%}: "
                                   "mailbox providers block senders near 0.3%")
        if self.hard_bounce_rate > HARD_BOUNCE_WARNING:
            found["hard_bounces"] = (f"hard-bounce rate {self.hard_bounce_rate:.2%} is over "
                                     f"{HARD_BOUNCE_WARNING:.0%}: the list holds many dead addresses")
        return found


def edition_reports(session: Session, edition_ids: list[int]) -> dict[int, EditionReport]:
    """The report of each edition in `edition_ids` (every one present, zeros when nothing)."""
    if not edition_ids:
        return {}
    counts: dict[int, dict[str, int]] = {e: defaultdict(int) for e in edition_ids}
    D, F, C = Delivery.__table__.c, Feedback.__table__.c, Click.__table__.c
    for edition_id, status, n in session.execute(
            select(D.edition_id, D.status, func.count()).where(
                D.edition_id.in_(edition_ids),
                D.status.in_([DeliveryStatus.SENT, DeliveryStatus.BOUNCED]))
            .group_by(D.edition_id, D.status)):
        counts[edition_id]["sent" if status == DeliveryStatus.SENT else "refused"] = n
    field = {Kind.HARD: "hard", Kind.SOFT: "soft", Kind.COMPLAINT: "complaints",
             Kind.UNSUBSCRIBE: "unsubscribes"}
    for edition_id, kind, n in session.execute(
            select(F.edition_id, F.kind, func.count()).where(F.edition_id.in_(edition_ids))
            .group_by(F.edition_id, F.kind)):
        if kind in field:
            counts[edition_id][field[Kind(kind)]] = n
    counted = (C.edition_id.in_(edition_ids), C.counted.is_(True))
    for edition_id, clicks, clickers in session.execute(
            select(C.edition_id, func.count(), func.count(distinct(C.subscriber_id)))
            .where(*counted).group_by(C.edition_id)):
        counts[edition_id].update(clicks=clicks, clickers=clickers)
    stories: dict[int, dict[int, int]] = defaultdict(dict)
    for edition_id, story_id, n in session.execute(
            select(C.edition_id, C.story_id, func.count()).where(*counted)
            .group_by(C.edition_id, C.story_id).order_by(func.count().desc(), C.story_id)):
        stories[edition_id][story_id] = n
    return {e: EditionReport(e, **counts[e], story_clicks=stories[e]) for e in edition_ids}
