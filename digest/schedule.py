"""Each list's schedule: build the draft ahead of its send time, start the send on time.

A local-time list (docs/sending.md) starts its edition at the first wave, the send time
in its readers' earliest zone, up to 26 h before the slot; so it looks at the slots of the
days around today in its own zone, not only today's."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from digest.curate.editions import build_draft, hold_reason, slot_for
from digest.models import DigestList, Edition, EditionStatus, utcnow
from digest.send import waves

BUILD_AHEAD = timedelta(hours=1)
# A slot this late is not sent automatically: news from yesterday morning is not news.
# Deployments set it with DIGEST_MAX_LATENESS_MINUTES (the task passes it in).
MAX_LATENESS = timedelta(hours=2)
# A local-time list's first wave is up to 26 h before its slot (UTC+14 against UTC-12),
# its last up to 26 h after: the slots of two days either side of today may be in play.
LOCAL_DAYS = range(-2, 3)


@dataclass
class TickReport:
    built: list[int] = field(default_factory=list)
    due: list[int] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Slot:
    at: datetime          # the list's own send time, UTC
    first_wave: datetime  # when sending starts: `at`, or earlier for a local-time list


def slots(session: Session, digest_list: DigestList, now: datetime) -> list[Slot]:
    """The slots the schedule looks at `now`, earliest first."""
    today = now.astimezone(ZoneInfo(digest_list.timezone)).date()
    if not waves.is_local(digest_list):
        slot = slot_for(digest_list, today)
        return [Slot(slot, slot)]
    zones = waves.reader_zones(session, digest_list.id)
    return [Slot(slot, waves.first_wave(digest_list, slot, zones))
            for slot in (slot_for(digest_list, today + timedelta(days=d)) for d in LOCAL_DAYS)]


def next_slot(session: Session, digest_list: DigestList, now: datetime | None = None) -> Slot:
    """The next slot whose sending has not begun by `now` ("first wave at ... UTC")."""
    now = now or utcnow()
    upcoming = [slot for slot in slots(session, digest_list, now) if slot.first_wave > now]
    if upcoming:
        return upcoming[0]
    return slots(session, digest_list, now + timedelta(days=1))[-1]


def tick(session: Session, now: datetime | None = None, *,
         max_lateness: timedelta = MAX_LATENESS) -> TickReport:
    """What the schedule asks for now: drafts built, and editions due to start sending.

    An approved (or auto-approved) edition is due from its first wave until `max_lateness`
    after it; later, ops are told and nothing is sent automatically."""
    now = now or utcnow()
    report = TickReport()
    for digest_list in session.exec(select(DigestList).order_by(DigestList.id)).all():
        for slot in slots(session, digest_list, now):
            _tick_slot(session, report, digest_list, slot, now, max_lateness)
    return report


def _tick_slot(session: Session, report: TickReport, digest_list: DigestList, slot: Slot,
               now: datetime, max_lateness: timedelta) -> None:
    start = slot.first_wave
    if now < start - BUILD_AHEAD:
        return
    existing = session.exec(select(Edition).where(
        Edition.list_id == digest_list.id, Edition.slot == slot.at)).one_or_none()
    if existing is None:
        if now > start + max_lateness:
            return  # missed entirely (service was down): do not build a stale draft
        existing = build_draft(session, digest_list, slot.at, now=now)
        report.built.append(existing.id)
        if existing.status == EditionStatus.SKIPPED:
            report.notes.append(f"{digest_list.slug}: edition {existing.id} "
                                f"{hold_reason(existing, now)}")
    if now < start:
        return
    if existing.status == EditionStatus.APPROVED:
        if now - start > max_lateness:
            report.notes.append(f"{digest_list.slug}: edition {existing.id} is "
                                f"{now - start} late and was not sent automatically")
        else:
            report.due.append(existing.id)
    elif existing.status == EditionStatus.DRAFT:
        wave = f" (its first wave was due at {start:%Y-%m-%d %H:%M} UTC)" if start != slot.at else ""
        report.notes.append(f"{digest_list.slug}: edition {existing.id} is due but "
                            f"{hold_reason(existing, now)}{wave}")
