"""The API's editions: look, shape, approve, and steer their sends."""

from __future__ import annotations


from fastapi import Depends, HTTPException, Request
from pydantic import BaseModel
from sqlmodel import Session, select

from digest.bounces.figures import edition_figures
from digest.bounces.report import edition_reports
from digest.curate import editor
from digest.curate.editions import EditionError, approve, items
from digest.ingest.fetch import limits_from
from digest.models import Edition, StaffUser
from digest.send import control
from digest.send.service import SendError
from digest.web.deps import db_session
from digest.web.staff import dispatch
from digest.web.staff.api.common import anyone, api_router, editor_only, ops_only, refusals, refused
from digest.web.staff.api.schemas import EditionOut, EditionSummary, Progress

router = api_router()


class ItemChange(BaseModel):
    headline: str | None = None
    summary: str | None = None
    pinned: bool | None = None
    position: int | None = None  # 1-based


class EnvelopeChange(BaseModel):
    subject: str | None = None
    preheader: str | None = None
    subject_b: str | None = None  # a second subject to test against the first; "" drops it


class StoryToAdd(BaseModel):
    url: str
    position: int | None = None  # 1-based; default: last


def edition_json(session: Session, edition: Edition) -> dict:
    return {
        "id": edition.id, "list_id": edition.list_id, "slot": edition.slot,
        "status": edition.status, "subject": edition.subject, "preheader": edition.preheader,
        "subject_b": edition.subject_b, "note": edition.note,
        "items": [{"id": i.id, "position": i.position + 1, "story_id": i.story_id, "headline": i.headline,
                   "summary": i.summary, "section": i.section, "pinned": i.pinned, "score": i.score}
                  for i in items(session, edition.id)],
        "warnings": edition_reports(session, [edition.id])[edition.id].warnings(),
    }


def _edition(session: Session, edition_id: int) -> Edition:
    edition = session.get(Edition, edition_id, populate_existing=True)
    if edition is None:
        raise HTTPException(404, f"no edition {edition_id}")
    return edition


@router.get("/editions", response_model=list[EditionSummary], responses=refusals())
def list_editions(user: StaffUser = Depends(anyone), session: Session = Depends(db_session)):
    """The newest 100 editions."""
    rows = session.exec(select(Edition).order_by(Edition.slot.desc()).limit(100)).all()
    return [{"id": e.id, "list_id": e.list_id, "slot": e.slot, "status": e.status,
             "subject": e.subject} for e in rows]


@router.get("/editions/{edition_id}", response_model=EditionOut, responses=refusals(404))
def get_edition(edition_id: int, user: StaffUser = Depends(anyone), session: Session = Depends(db_session)):
    return edition_json(session, _edition(session, edition_id))


@router.patch("/editions/{edition_id}", response_model=EditionOut, responses=refusals(403, 404, 409))
def change_envelope(edition_id: int, change: EnvelopeChange, user: StaffUser = Depends(editor_only),
                    session: Session = Depends(db_session)):
    try:
        editor.edit_envelope(session, edition_id, subject=change.subject, preheader=change.preheader,
                             subject_b=change.subject_b)
    except EditionError as exc:
        raise refused(exc) from None
    session.commit()
    return edition_json(session, _edition(session, edition_id))


@router.patch("/editions/{edition_id}/items/{item_id}", response_model=EditionOut,
              responses=refusals(403, 404, 409))
def change_item(edition_id: int, item_id: int, change: ItemChange, user: StaffUser = Depends(editor_only),
                session: Session = Depends(db_session)):
    try:
        if change.headline is not None or change.summary is not None:
            editor.edit_item(session, edition_id, item_id, headline=change.headline, summary=change.summary)
        if change.pinned is not None:
            editor.pin_item(session, edition_id, item_id, change.pinned)
        if change.position is not None:
            editor.move_item(session, edition_id, item_id, change.position - 1)
    except EditionError as exc:
        session.rollback()
        raise refused(exc) from None
    session.commit()
    return edition_json(session, _edition(session, edition_id))


@router.delete("/editions/{edition_id}/items/{item_id}", response_model=EditionOut,
               responses=refusals(403, 404, 409))
def remove_item(edition_id: int, item_id: int, user: StaffUser = Depends(editor_only),
                session: Session = Depends(db_session)):
    try:
        editor.remove_item(session, edition_id, item_id)
    except EditionError as exc:
        raise refused(exc) from None
    session.commit()
    return edition_json(session, _edition(session, edition_id))


@router.post("/editions/{edition_id}/stories", response_model=EditionOut, responses=refusals(403, 404, 409))
def add_story(edition_id: int, story: StoryToAdd, request: Request, user: StaffUser = Depends(editor_only),
              session: Session = Depends(db_session)):
    try:
        editor.add_story(session, edition_id, story.url, limits=limits_from(request.app.state.settings),
                         position=None if story.position is None else story.position - 1)
    except EditionError as exc:
        raise refused(exc) from None
    session.commit()
    return edition_json(session, _edition(session, edition_id))


@router.post("/editions/{edition_id}/approve", response_model=EditionOut, responses=refusals(403, 404, 409))
def approve_edition(edition_id: int, user: StaffUser = Depends(editor_only),
                    session: Session = Depends(db_session)):
    _edition(session, edition_id)
    try:
        approve(session, edition_id)
    except EditionError as exc:
        raise refused(exc) from None
    session.commit()
    return edition_json(session, _edition(session, edition_id))


def progress_json(session: Session, edition_id: int) -> dict:
    try:
        p = control.progress(session, edition_id)
    except SendError as exc:
        raise HTTPException(404, str(exc)) from None
    done = p.total - p.left
    return {"edition_id": p.edition_id, "status": p.status, "counts": p.counts, "total": p.total,
            "left": p.left, "sent": p.count("sent"), "deferred": p.count("deferred"),
            "bounced": p.count("bounced"), "failed": p.count("failed"), "rate": round(p.rate, 2),
            "problem": p.problem, "repeats_over_cap": p.repeats_over_cap,
            "subject_test": p.subject_test.as_dict() if p.subject_test else None,
            "waiting": p.waiting,
            "next_wave": None if p.next_wave is None else p.next_wave.isoformat(),
            "eta_seconds": None if p.eta_seconds is None else round(p.eta_seconds),
            "percent": 100 if p.total and not p.left else (round(100 * done / p.total) if p.total else 0),
            "deliverability": edition_figures(session, edition_id).as_json()}


@router.get("/editions/{edition_id}/progress", response_model=Progress, responses=refusals(404))
def send_progress(edition_id: int, user: StaffUser = Depends(anyone), session: Session = Depends(db_session)):
    return progress_json(session, edition_id)


@router.post("/editions/{edition_id}/send/{action}", response_model=Progress, responses=refusals(403, 404, 409))
def steer_send(edition_id: int, action: dispatch.SendAction, request: Request,
               user: StaffUser = Depends(ops_only), session: Session = Depends(db_session)):
    """Start, pause, resume or cancel the send, or retry its deferred, expired and failed deliveries."""
    try:
        dispatch.steer(session, request.app.state.settings, edition_id, action)
    except SendError as exc:
        raise refused(exc) from None
    return progress_json(session, edition_id)


