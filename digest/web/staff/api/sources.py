"""The API's sources, the ingest that fetches them, and subscribers (search, CSV in and out)."""

from __future__ import annotations

import io

from fastapi import Body, Depends, HTTPException, Request
from fastapi.responses import PlainTextResponse, Response
from pydantic import BaseModel
from sqlalchemy import or_
from sqlmodel import Session, select

from digest.ingest import sources
from digest.ingest.fetch import limits_from
from digest.ingest.service import ingest_due_or_queue
from digest.models import StaffUser, Subscriber
from digest.subscribers.importing import export_csv, import_csv
from digest.subscribers.signup import UnknownList
from digest.web.deps import db_session
from digest.web.staff.api.common import anyone, api_router, ops_only, refusals
from digest.web.staff.api.schemas import ImportReport, IngestStarted, RemovedSource, SourceOut, SubscriberHit

router = api_router()


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


@router.get("/sources", response_model=list[SourceOut], responses=refusals())
def list_sources(user: StaffUser = Depends(anyone), session: Session = Depends(db_session)):
    return [source_json(status) for status in sources.list_sources(session)]


@router.post("/sources", status_code=201, response_model=SourceOut, responses=refusals(403))
def add_source(new: NewSource, request: Request, user: StaffUser = Depends(ops_only),
               session: Session = Depends(db_session)):
    policy = limits_from(request.app.state.settings).policy
    try:
        source = sources.add_source(session, **new.model_dump(), policy=policy)
    except sources.SourceError as exc:
        raise HTTPException(422, str(exc)) from None
    session.commit()
    return _source(session, source.id)


@router.patch("/sources/{source_id}", response_model=SourceOut, responses=refusals(403, 404))
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


@router.delete("/sources/{source_id}", response_model=RemovedSource, responses=refusals(403, 404, 409))
def remove_source(source_id: int, user: StaffUser = Depends(ops_only), session: Session = Depends(db_session)):
    try:
        removed = sources.remove_source(session, source_id)
    except sources.SourceError as exc:
        session.rollback()
        raise HTTPException(404 if str(exc).startswith("no source") else 409, str(exc)) from None
    session.commit()
    return {"removed_stories": removed}


@router.get("/subscribers", response_model=list[SubscriberHit], responses=refusals(403))
def search_subscribers(q: str, user: StaffUser = Depends(ops_only), session: Session = Depends(db_session)):
    pattern = f"%{q.strip().lower()}%"
    rows = session.exec(select(Subscriber).where(or_(Subscriber.email.like(pattern), Subscriber.name.ilike(pattern)))
                        .order_by(Subscriber.email).limit(100)).all()
    return [{"id": s.id, "email": s.email, "name": s.name, "timezone": s.timezone} for s in rows]


@router.post("/lists/{slug}/subscribers/import", response_model=ImportReport, responses=refusals(403, 404))
def import_subscribers(slug: str, csv_text: str = Body(..., media_type="text/csv"),
                       user: StaffUser = Depends(ops_only), session: Session = Depends(db_session)):
    try:
        report = import_csv(session, slug, io.StringIO(csv_text))
    except UnknownList as exc:
        raise HTTPException(404, str(exc)) from None
    return {"counts": report.counts(),
            "rows": [{"line": r.line, "email": r.email, "outcome": r.outcome, "reason": r.reason}
                     for r in report.rows]}


# A plain Response class: the refusals stay JSON in the description, the 200 alone is CSV.
@router.get("/lists/{slug}/subscribers/export", response_class=Response, responses={
    **refusals(403, 404), 200: {"content": {"text/csv": {"schema": {"type": "string"}}},
                                "description": "The list's subscribers as CSV."}})
def export_subscribers(slug: str, user: StaffUser = Depends(ops_only), session: Session = Depends(db_session)):
    out = io.StringIO()
    try:
        export_csv(session, slug, out)
    except UnknownList as exc:
        raise HTTPException(404, str(exc)) from None
    return PlainTextResponse(out.getvalue(), media_type="text/csv")


@router.post("/ingest", response_model=IngestStarted, responses=refusals(403))
def ingest_due(request: Request, user: StaffUser = Depends(ops_only)):
    """Fetch every due source, as `digest ingest` does: queued for the workers when a broker
    is set, else fetched here before the answer (which then lists each source's outcome)."""
    reports = ingest_due_or_queue(request.app.state.settings)
    return {"queued": reports is None,
            "sources": [{"source": r.source, "source_id": r.source_id, "added": r.added, "error": r.error,
                         "summary": r.summary()} for r in reports or []]}
