"""Building draft editions and the editor operations on them."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from digest.curate.rank import Candidate, pick
from digest.curate.summarise import summarise
from digest.models import (
    DigestList, Edition, EditionItem, EditionStatus, Source, Story, utcnow,
)


class EditionError(Exception):
    """An edition operation that cannot be done; the message says why."""


def slot_for(digest_list: DigestList, day: date) -> datetime:
    """The send time of `digest_list` on `day`, in the list's time zone, as aware UTC."""
    hour, minute = (int(part) for part in digest_list.send_time.split(":"))
    local = datetime.combine(day, time(hour, minute), ZoneInfo(digest_list.timezone))
    return local.astimezone(ZoneInfo("UTC"))


def todays_slot(digest_list: DigestList, now: datetime | None = None) -> datetime:
    """The list's slot on the current day in its own time zone."""
    now = now or utcnow()
    return slot_for(digest_list, now.astimezone(ZoneInfo(digest_list.timezone)).date())


def build_draft(session: Session, digest_list: DigestList, slot: datetime,
                *, now: datetime | None = None) -> Edition:
    """The edition for this list and slot: the existing one, or a new draft of the top stories.

    Too few qualifying stories gives a SKIPPED edition with the reason in its note.
    """
    existing = session.exec(
        select(Edition).where(Edition.list_id == digest_list.id, Edition.slot == slot)
    ).one_or_none()
    if existing is not None:
        return existing
    now = now or utcnow()
    chosen = pick(_candidates(session, digest_list, now), now=now,
                  limit=digest_list.max_stories, per_source_cap=digest_list.per_source_cap)
    edition = Edition(list_id=digest_list.id, slot=slot)
    session.add(edition)
    session.flush()
    if len(chosen) < digest_list.min_stories:
        edition.status = EditionStatus.SKIPPED
        edition.note = (f"only {len(chosen)} qualifying stories, "
                        f"the list needs at least {digest_list.min_stories}")
        return edition
    for position, ranked in enumerate(chosen):
        story = ranked.story
        session.add(EditionItem(
            edition_id=edition.id, story_id=story.id, position=position,
            headline=story.title, summary=summarise(story.text) or story.title,
            section=story.section, score=round(ranked.score, 6),
        ))
    edition.subject = subject_for([r.story.title for r in chosen])
    edition.preheader = " \u00b7 ".join(r.story.title for r in chosen[1:3])[:200]
    if digest_list.auto_approve:
        edition.status = EditionStatus.APPROVED
        edition.approved_at = now
    session.flush()
    return edition


def subject_for(headlines: list[str]) -> str:
    lead = headlines[0]
    if len(lead) > 90:
        lead = lead[:89].rsplit(" ", 1)[0] + "\u2026"
    more = len(headlines) - 1
    return f"{lead} + {more} more" if more else lead


def approve(session: Session, edition_id: int) -> Edition:
    edition = session.get(Edition, edition_id)
    if edition is None:
        raise EditionError(f"no edition {edition_id}")
    if edition.status != EditionStatus.DRAFT:
        raise EditionError(f"edition {edition_id} is {edition.status}, only a draft can be approved")
    edition.status = EditionStatus.APPROVED
    edition.approved_at = utcnow()
    return edition


def items(session: Session, edition_id: int) -> list[EditionItem]:
    return list(session.exec(
        select(EditionItem).where(EditionItem.edition_id == edition_id).order_by(EditionItem.position)
    ).all())


def _candidates(session: Session, digest_list: DigestList, now: datetime) -> list[Candidate]:
    already_used = (
        select(EditionItem.story_id).join(Edition, Edition.id == EditionItem.edition_id)
        .where(Edition.list_id == digest_list.id, Edition.status != EditionStatus.SKIPPED)
    )
    query = (
        select(Story, Source.weight).join(Source, Source.id == Story.source_id)
        .where(Story.published_at >= now - timedelta(hours=digest_list.freshness_hours))
        .where(Story.id.not_in(already_used))
    )
    if digest_list.sections:
        query = query.where(Story.section.in_(digest_list.sections))
    return [Candidate(story, weight) for story, weight in session.exec(query).all()]
