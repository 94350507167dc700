"""The JSON API for scripts: everything the console does, with per-user API tokens
(`Authorization: Bearer dgt_...`, made by `digest users token`). OpenAPI at /api/openapi.json."""

from __future__ import annotations

import io

from fastapi import APIRouter, Body, Depends, HTTPException, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel
from sqlalchemy import or_
from sqlmodel import Session, select

from digest.curate import editor
from digest.curate.editions import EditionError, approve, items
from digest.ingest import sources
from digest.ingest.fetch import limits_from
from digest.models import Edition, StaffUser, Subscriber
from digest.send import control
from digest.send.service import SendError
from digest.staff.accounts import Permission
from digest.subscribers.importing import export_csv, import_csv
from digest.subscribers.signup import UnknownList
from digest.web.deps import db_session
from digest.web.staff import dispatch
from digest.web.staff.auth import require

router = APIRouter(prefix="/api", tags=["staff"])
anyone = require()
editor_only = require(Permission.EDIT)
ops_only = require(Permission.OPERATE)


class ItemChange(BaseModel):
    headline: str | None = None
    summary: str | None = None
    pinned: bool | None = None
    position: int | None = None  # 1-based


class EnvelopeChange(BaseModel):
    subject: str | None = None
    preheader: str | None = None


class StoryToAdd(BaseModel):
    url: str
    position: int | None = None  # 1-based; default: last


def _refused(exc: Exception) -> HTTPException:
    return HTTPException(409, str(exc))


def edition_json(session: Session, edition: Edition) -> dict:
    return {
        "id": edition.id, "list_id": edition.list_id, "slot": edition.slot.isoformat(),
        "status": edition.status, "subject": edition.subject, "preheader": edition.preheader,
        "note": edition.note,
        "items": [{"id": i.id, "position": i.position + 1, "story_id": i.story_id, "headline": i.headline,
                   "summary": i.summary, "section": i.section, "pinned": i.pinned, "score": i.score}
                  for i in items(session, edition.id)],
    }


def _edition(session: Session, edition_id: int) -> Edition:
    edition = session.get(Edition, edition_id, populate_existing=True)
    if edition is None:
        raise HTTPException(404, f"no edition {edition_id}")
    return edition


@router.get("/editions")
def list_editions(user: StaffUser = Depends(anyone), session: Session = Depends(db_session)):
    rows = session.exec(select(Edition).order_by(Edition.slot.desc()).limit(100)).all()
    return [{"id": e.id, "list_id": e.list_id, "slot": e.slot.isoformat(), "status": e.status,
             "subject": e.subject} for e in rows]


@router.get("/editions/{edition_id}")
def get_edition(edition_id: int, user: StaffUser = Depends(anyone), session: Session = Depends(db_session)):
    return edition_json(session, _edition(session, edition_id))


@router.patch("/editions/{edition_id}")
def change_envelope(edition_id: int, change: EnvelopeChange, user: StaffUser = Depends(editor_only),
                    session: Session = Depends(db_session)):
    try:
        editor.edit_envelope(session, edition_id, subject=change.subject, preheader=change.preheader)
    except EditionError as exc:
        raise _refused(exc) from None
    session.commit()
    return edition_json(session, _edition(session, edition_id))


@router.patch("/editions/{edition_id}/items/{item_id}")
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
        raise _refused(exc) from None
    session.commit()
    return edition_json(session, _edition(session, edition_id))


@router.delete("/editions/{edition_id}/items/{item_id}")
def remove_item(edition_id: int, item_id: int, user: StaffUser = Depends(editor_only),
                session: Session = Depends(db_session)):
    try:
        editor.remove_item(session, edition_id, item_id)
    except EditionError as exc:
        raise _refused(exc) from None
    session.commit()
    return edition_json(session, _edition(session, edition_id))


@router.post("/editions/{edition_id}/stories")
def add_story(edition_id: int, story: StoryToAdd, request: Request, user: StaffUser = Depends(editor_only),
              session: Session = Depends(db_session)):
    try:
        editor.add_story(session, edition_id, story.url, limits=limits_from(request.app.state.settings),
                         position=None if story.position is None else story.position - 1)
    except EditionError as exc:
        raise _refused(exc) from None
    session.commit()
    return edition_json(session, _edition(session, edition_id))


@router.post("/editions/{edition_id}/approve")
def approve_edition(edition_id: int, user: StaffUser = Depends(editor_only),
                    session: Session = Depends(db_session)):
    _edition(session, edition_id)
    try:
        approve(session, edition_id)
    except EditionError as exc:
        raise _refused(exc) from None
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
            "problem": p.problem,
            "eta_seconds": None if p.eta_seconds is None else round(p.eta_seconds),
            "percent": 100 if p.total and not p.left else (round(100 * done / p.total) if p.total else 0)}


@router.get("/editions/{edition_id}/progress")
def send_progress(edition_id: int, user: StaffUser = Depends(anyone), session: Session = Depends(db_session)):
    return progress_json(session, edition_id)


@router.post("/editions/{edition_id}/send/{action}")
def steer(edition_id: int, action: str, request: Request, user: StaffUser = Depends(ops_only),
          session: Session = Depends(db_session)):
    """action: start, pause, resume, cancel or retry (deferred and expired deliveries)."""
    settings = request.app.state.settings
    try:
        if action == "start":
            dispatch.start(session, settings, edition_id)
        elif action == "pause":
            control.pause_send(session, edition_id)
        elif action == "resume":
            dispatch.continue_batches(settings, edition_id, control.resume_send(session, settings, edition_id))
        elif action == "cancel":
            control.cancel_send(session, edition_id)
        elif action == "retry":
            dispatch.continue_batches(settings, edition_id, control.retry_failed(session, settings, edition_id)[1])
        else:
            raise HTTPException(404, f"no send action {action!r}")
    except SendError as exc:
        raise _refused(exc) from None
    return progress_json(session, edition_id)


class NewSource(BaseModel):
    url: str
    name: str | None = None
    section: str = "news"
    weight: float = 1.0
    every_minutes: int = 60


class SourceChange(BaseModel):
    name: str | None = None
    section: str | None = None
    weight: float | None = None
    every_minutes: int | None = None
    active: bool | None = None  # false pauses; true resumes (and makes it due now)


def source_json(status: sources.SourceStatus) -> dict:
    s = status.source
    return {"id": s.id, "name": s.name, "url": s.url, "section": s.section, "weight": s.weight,
            "every_minutes": s.poll_interval_minutes, "state": status.state, "stories": status.stories,
            "last_success_at": s.last_success_at, "last_error": s.last_error,
            "consecutive_failures": s.consecutive_failures, "next_poll_at": status.next_poll_at}


def _source(session: Session, source_id: int) -> dict:
    for status in sources.list_sources(session):
        if status.source.id == source_id:
            return source_json(status)
    raise HTTPException(404, f"no source {source_id}")


@router.get("/sources")
def list_sources(user: StaffUser = Depends(anyone), session: Session = Depends(db_session)):
    return [source_json(status) for status in sources.list_sources(session)]


@router.post("/sources", status_code=201)
def add_source(new: NewSource, user: StaffUser = Depends(ops_only), session: Session = Depends(db_session)):
    try:
        source = sources.add_source(session, **new.model_dump())
    except sources.SourceError as exc:
        raise HTTPException(422, str(exc)) from None
    session.commit()
    return _source(session, source.id)


@router.patch("/sources/{source_id}")
def change_source(source_id: int, change: SourceChange, user: StaffUser = Depends(ops_only),
                  session: Session = Depends(db_session)):
    fields = change.model_dump(exclude_none=True)
    active = fields.pop("active", None)
    try:
        if fields:
            sources.update_source(session, source_id, **fields)
        if active is False:
            sources.pause_source(session, source_id)
        elif active is True:
            sources.resume_source(session, source_id)
    except sources.SourceError as exc:
        session.rollback()
        raise HTTPException(404 if str(exc).startswith("no source") else 422, str(exc)) from None
    session.commit()
    return _source(session, source_id)


@router.delete("/sources/{source_id}")
def remove_source(source_id: int, user: StaffUser = Depends(ops_only), session: Session = Depends(db_session)):
    try:
        removed = sources.remove_source(session, source_id)
    except sources.SourceError as exc:
        session.rollback()
        raise HTTPException(404 if str(exc).startswith("no source") else 409, str(exc)) from None
    session.commit()
    return {"removed_stories": removed}


@router.get("/subscribers")
def search_subscribers(q: str, user: StaffUser = Depends(ops_only), session: Session = Depends(db_session)):
    pattern = f"%{q.strip().lower()}%"
    rows = session.exec(select(Subscriber).where(or_(Subscriber.email.like(pattern), Subscriber.name.ilike(pattern)))
                        .order_by(Subscriber.email).limit(100)).all()
    return [{"id": s.id, "email": s.email, "name": s.name} for s in rows]


@router.post("/lists/{slug}/subscribers/import")
def import_subscribers(slug: str, csv_text: str = Body(..., media_type="text/csv"),
                       user: StaffUser = Depends(ops_only), session: Session = Depends(db_session)):
    try:
        report = import_csv(session, slug, io.StringIO(csv_text))
    except UnknownList as exc:
        raise HTTPException(404, str(exc)) from None
    return {"counts": report.counts(),
            "rows": [{"line": r.line, "email": r.email, "outcome": r.outcome, "reason": r.reason}
                     for r in report.rows]}


@router.get("/lists/{slug}/subscribers/export", response_class=PlainTextResponse)
def export_subscribers(slug: str, user: StaffUser = Depends(ops_only), session: Session = Depends(db_session)):
    out = io.StringIO()
    try:
        export_csv(session, slug, out)
    except UnknownList as exc:
        raise HTTPException(404, str(exc)) from None
    return PlainTextResponse(out.getvalue(), media_type="text/csv")


@router.get("/openapi.json", include_in_schema=False)
def openapi(request: Request, user: StaffUser = Depends(anyone)):
    return request.app.openapi()


@router.get("/docs", include_in_schema=False)
def docs(user: StaffUser = Depends(anyone)):
    response = get_swagger_ui_html(openapi_url="/api/openapi.json", title="digest API")
    # Swagger UI is a script page served from its CDN: allow exactly that here.
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; script-src 'unsafe-inline' https://cdn.jsdelivr.net; "
        "style-src https://cdn.jsdelivr.net; img-src 'self' data: https://fastapi.tiangolo.com")
    return response
