"""Each list's schedule: build the draft ahead of its send time, start the send on time."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from digest.curate.editions import build_draft, hold_reason, slot_for
from digest.models import DigestList, Edition, EditionStatus, utcnow

BUILD_AHEAD = timedelta(hours=1)
# A slot this late is not sent automatically: news from yesterday morning is not news.
# Deployments set it with DIGEST_MAX_LATENESS_MINUTES (the task passes it in).
MAX_LATENESS = timedelta(hours=2)


@dataclass
class TickReport:
    built: list[int] = field(default_factory=list)
    due: list[int] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def tick(session: Session, now: datetime | None = None, *,
         max_lateness: timedelta = MAX_LATENESS) -> TickReport:
    """What the schedule asks for now: drafts built, and editions due to start sending.

    An approved (or auto-approved) edition is due from its slot until `max_lateness` after
    it; later, ops are told and nothing is sent automatically."""
    now = now or utcnow()
    report = TickReport()
    for digest_list in session.exec(select(DigestList).order_by(DigestList.id)).all():
        local_day = now.astimezone(ZoneInfo(digest_list.timezone)).date()
        slot = slot_for(digest_list, local_day)
        if now < slot - BUILD_AHEAD:
            continue
        existing = session.exec(select(Edition).where(
            Edition.list_id == digest_list.id, Edition.slot == slot)).one_or_none()
        if existing is None:
            if now > slot + max_lateness:
                continue  # missed entirely (service was down): do not build a stale draft
            existing = build_draft(session, digest_list, slot, now=now)
            report.built.append(existing.id)
            if existing.status == EditionStatus.SKIPPED:
                report.notes.append(f"{digest_list.slug}: edition {existing.id} "
                                    f"{hold_reason(existing, now)}")
        if now < slot:
            continue
        if existing.status == EditionStatus.APPROVED:
            if now - slot > max_lateness:
                report.notes.append(f"{digest_list.slug}: edition {existing.id} is "
                                    f"{now - slot} late and was not sent automatically")
            else:
                report.due.append(existing.id)
        elif existing.status == EditionStatus.DRAFT:
            report.notes.append(f"{digest_list.slug}: edition {existing.id} is due but "
                                f"{hold_reason(existing, now)}")
    return report
