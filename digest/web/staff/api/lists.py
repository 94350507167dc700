"""The API's lists: their rules, subscribers and schedule, and building today's edition."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from fastapi import Depends, HTTPException, Response
from sqlalchemy import func
from sqlmodel import Session, select

from digest.curate.editions import build_draft, slot_for, todays_slot
from digest.curate.lists import all_lists, get_list
from digest.models import DigestList, Edition, StaffUser, Subscription, SubscriptionStatus, utcnow
from digest.schedule import next_slot
from digest.web.deps import db_session
from digest.web.staff.api.common import anyone, api_router, editor_only, refusals
from digest.web.staff.api.editions import edition_json
from digest.web.staff.api.schemas import BuiltEdition, ListOut

router = api_router()


def next_send_at(digest_list: DigestList, now: datetime) -> datetime:
    slot = todays_slot(digest_list, now)
    if slot > now:
        return slot
    tomorrow = now.astimezone(ZoneInfo(digest_list.timezone)).date() + timedelta(days=1)
    return slot_for(digest_list, tomorrow)


def _subscribers(session: Session, list_ids: list[int]) -> dict[int, int]:
    rows = session.exec(select(Subscription.list_id, func.count()).where(
        Subscription.list_id.in_(list_ids), Subscription.status == SubscriptionStatus.ACTIVE)
        .group_by(Subscription.list_id)).all()
    return dict(rows)


def _lists_json(session: Session, lists: list[DigestList]) -> list[dict]:
    counts, now = _subscribers(session, [d.id for d in lists]), utcnow()
    return [{**d.model_dump(include={"id", "slug", "name", "description", "sections", "max_stories", "min_stories",
                                     "freshness_hours", "per_source_cap", "per_domain_cap",
                                     "track_clicks"}),
             "subscribers": counts.get(d.id, 0),
             "schedule": {"send_time": d.send_time, "timezone": d.timezone, "auto_approve": d.auto_approve,
                          "next_send_at": next_send_at(d, now), "deliver_at": d.deliver_at,
                          "first_wave_at": next_slot(session, d, now).first_wave}}
            for d in lists]


def _list(session: Session, slug: str) -> DigestList:
    digest_list = get_list(session, slug)
    if digest_list is None:
        raise HTTPException(404, f"no list {slug!r}")
    return digest_list


@router.get("/lists", response_model=list[ListOut], responses=refusals())
def list_lists(user: StaffUser = Depends(anyone), session: Session = Depends(db_session)):
    """Every list with its rules, confirmed subscribers and schedule."""
    return _lists_json(session, all_lists(session))


@router.get("/lists/{slug}", response_model=ListOut, responses=refusals(404))
def show_list(slug: str, user: StaffUser = Depends(anyone), session: Session = Depends(db_session)):
    return _lists_json(session, [_list(session, slug)])[0]


@router.post("/lists/{slug}/editions", status_code=201, response_model=BuiltEdition,
             responses={**refusals(403, 404), 200: {"model": BuiltEdition,
                                                         "description": "Today's edition existed already."}})
def build_edition(slug: str, response: Response, user: StaffUser = Depends(editor_only),
                  session: Session = Depends(db_session)):
    """Build today's draft for the list, as `digest editions build` does: 201 with the new
    draft (or a skipped edition, with the reason in `note`), 200 with the one that exists."""
    digest_list = _list(session, slug)
    slot = todays_slot(digest_list)
    existed = session.exec(select(Edition.id).where(Edition.list_id == digest_list.id,
                                                    Edition.slot == slot)).one_or_none()
    edition = build_draft(session, digest_list, slot)
    session.commit()
    if existed is not None:
        response.status_code = 200
    return {**edition_json(session, edition), "created": existed is None}
