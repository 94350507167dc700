"""Building draft editions, approving them, and saying why one will not go out."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_
from sqlmodel import Session, select

from digest.curate.rank import Candidate, Caps, domain, pick
from digest.curate.summarise import summarise
from digest.ingest.clean import plain_text
from digest.models import (
    Click, DigestList, Edition, EditionItem, EditionStatus, Source, Story, StorySource, utcnow,
)

# Editions whose stories have gone (or are going) to readers: never offered again.
OUT_OF_DRAFT = (EditionStatus.APPROVED, EditionStatus.SENDING, EditionStatus.PAUSED,
                EditionStatus.SENT)
SUBJECT_LEAD_CHARS = 90
PREHEADER_CHARS = 200


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

    Too few qualifying stories gives a SKIPPED edition with the reason in its note. A list
    that auto-approves gets its draft approved at once.
    """
    existing = session.exec(
        select(Edition).where(Edition.list_id == digest_list.id, Edition.slot == slot)
    ).one_or_none()
    if existing is not None:
        return existing
    now = now or utcnow()
    caps = Caps(limit=digest_list.max_stories, per_source=digest_list.per_source_cap,
                per_domain=digest_list.per_domain_cap)
    chosen = pick(candidates(session, digest_list, now), now=now, caps=caps)
    edition = Edition(list_id=digest_list.id, slot=slot)
    session.add(edition)
    session.flush()
    if len(chosen) < digest_list.min_stories:
        edition.status = EditionStatus.SKIPPED
        edition.note = (f"only {len(chosen)} qualifying stories, "
                        f"the list needs at least {digest_list.min_stories}")
        return edition
    for position, ranked in enumerate(chosen):
        session.add(new_item(edition, ranked.story, position, score=ranked.score))
    headlines = [r.story.title for r in chosen]
    edition.subject, edition.preheader = subject_for(headlines), preheader_for(headlines)
    if digest_list.auto_approve:
        edition.status = EditionStatus.APPROVED
        edition.approved_at = now
    session.flush()
    return edition


def new_item(edition: Edition, story: Story, position: int, *, score: float = 0.0) -> EditionItem:
    """An edition item for `story` with its headline and the curator's summary."""
    summary = summarise(story.text, description=plain_text(story.summary_html), title=story.title,
                        language=story.language)
    return EditionItem(edition_id=edition.id, story_id=story.id, position=position,
                       headline=story.title, summary=summary.text or story.title,
                       section=story.section, score=round(score, 6))


def subject_for(headlines: list[str]) -> str:
    """The lead headline (shortened at a word), and how many more stories there are."""
    if not headlines:
        return ""
    lead = headlines[0]
    if len(lead) > SUBJECT_LEAD_CHARS:
        lead = lead[:SUBJECT_LEAD_CHARS - 1].rsplit(" ", 1)[0] + "\u2026"
    more = len(headlines) - 1
    return f"{lead} + {more} more" if more else lead


def preheader_for(headlines: list[str]) -> str:
    """The next two headlines: what the inbox shows after the subject."""
    text = " \u00b7 ".join(headlines[1:3])
    if len(text) > PREHEADER_CHARS:
        text = text[:PREHEADER_CHARS - 1].rsplit(" ", 1)[0] + "\u2026"
    return text


def approve(session: Session, edition_id: int, *, now: datetime | None = None) -> Edition:
    edition = session.get(Edition, edition_id)
    if edition is None:
        raise EditionError(f"no edition {edition_id}")
    if edition.status != EditionStatus.DRAFT:
        raise EditionError(f"edition {edition_id} is {edition.status}, only a draft can be approved")
    if not items(session, edition_id):
        raise EditionError(f"edition {edition_id} has no stories: add some before approving")
    edition.status = EditionStatus.APPROVED
    edition.approved_at = now or utcnow()
    return edition


def items(session: Session, edition_id: int) -> list[EditionItem]:
    """The edition's stories in order (without the reserves a send may have added)."""
    return list(session.exec(
        select(EditionItem).where(EditionItem.edition_id == edition_id, EditionItem.reserve.is_(False))
        .order_by(EditionItem.position)
    ).all())


def hold_reason(edition: Edition, now: datetime | None = None) -> str | None:
    """Why this edition is not going out on its own, for ops; None if nothing holds it."""
    now = now or utcnow()
    if edition.status == EditionStatus.SKIPPED:
        return f"skipped: {edition.note}"
    if edition.status == EditionStatus.DRAFT:
        when = "was due" if now >= edition.slot else "is due"
        return (f"not approved: it {when} at {edition.slot:%Y-%m-%d %H:%M} UTC and is not sent "
                f"until an editor approves it")
    return None


def already_sent(list_id: int):
    """Story ids that an edition of this list has sent or is sending (a subquery)."""
    return (
        select(EditionItem.story_id).join(Edition, Edition.id == EditionItem.edition_id)
        .where(Edition.list_id == list_id)
        .where(or_(Edition.status.in_(OUT_OF_DRAFT), Edition.send_started_at.is_not(None)))
    )


def candidates(session: Session, digest_list: DigestList, now: datetime) -> list[Candidate]:
    """Fresh, unblocked stories of the list's sections that the list has not sent before,
    with what the ranking needs to know about each."""
    clicks = (select(Click.story_id, func.count(Click.id).label("clicks"))
              .where(Click.counted.is_(True)).group_by(Click.story_id).subquery())
    query = (
        select(Story, Source.weight, clicks.c.clicks).join(Source, Source.id == Story.source_id)
        .outerjoin(clicks, clicks.c.story_id == Story.id)
        .where(Story.published_at >= now - timedelta(hours=digest_list.freshness_hours))
        .where(Story.blocked.is_(False))
        .where(Story.id.not_in(already_sent(digest_list.id)))
    )
    if digest_list.sections:
        query = query.where(Story.section.in_(digest_list.sections))
    rows = session.exec(query).all()
    sightings = _sightings(session, [story.id for story, _, _ in rows])
    # A story carried by several feeds counts with the most trusted of them, not the first.
    return [Candidate(story, max(weight, sightings.best_weight.get(story.id, weight)),
                      source_count=max(len(sightings.sites[story.id]), 1), clicks=count or 0)
            for story, weight, count in rows]


@dataclass
class _Sightings:
    sites: defaultdict[int, set[str]] = field(default_factory=lambda: defaultdict(set))
    best_weight: dict[int, float] = field(default_factory=dict)


def _sightings(session: Session, story_ids: list[int]) -> _Sightings:
    """Per story: the different sites that carried it (two feeds of one site count once),
    and the highest weight among the feeds that did."""
    found = _Sightings()
    for start in range(0, len(story_ids), 500):
        rows = session.exec(
            select(StorySource.story_id, Source.url, Source.weight)
            .join(Source, Source.id == StorySource.source_id)
            .where(StorySource.story_id.in_(story_ids[start:start + 500]))).all()
        for story_id, feed_url, weight in rows:
            found.sites[story_id].add(domain(feed_url) or feed_url)
            found.best_weight[story_id] = max(weight, found.best_weight.get(story_id, weight))
    return found
