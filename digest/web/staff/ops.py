"""Ops pages: start, pause, resume, cancel and retry sends and watch them; source health,
OPML import and export; subscribers with their delivery history; CSV import with its per-row report, and export."""

from __future__ import annotations

import io

from fastapi import APIRouter, Depends, Request, UploadFile
from fastapi.responses import Response, StreamingResponse
from sqlalchemy import or_
from sqlmodel import Session, select
from starlette.datastructures import FormData

from digest.bounces.figures import edition_figures
from digest.ingest.fetch import limits_from
from digest.ingest.opml import MAX_BYTES, OpmlError, export_opml, import_opml, sections_no_list_takes
from digest.ingest.sources import list_sources
from digest.models import Delivery, DigestList, Edition, StaffUser, Subscriber, Subscription
from digest.send import control
from digest.send.service import SendError
from digest.staff.accounts import Permission
from digest.subscribers.importing import export_csv, import_csv
from digest.subscribers.signup import UnknownList
from digest.web.deps import db_session
from digest.web.staff import dispatch, pictures
from digest.web.staff.auth import require
from digest.web.staff.common import back, checked_form, staff_page

router = APIRouter(prefix="/staff")
ops_only = require(Permission.OPERATE)
anyone = require()
SEARCH_LIMIT = 50


@router.get("/editions/{edition_id}/send")
def send_page(request: Request, edition_id: int, user: StaffUser = Depends(anyone),
              session: Session = Depends(db_session)):
    progress = control.progress(session, edition_id)
    edition = session.get(Edition, edition_id)
    return staff_page(request, "send.html", edition=edition, progress=progress,
                      digest_list=session.get(DigestList, edition.list_id),
                      timeline=pictures.send_picture(session, edition_id),
                      figures=edition_figures(session, edition_id))


@router.post("/editions/{edition_id}/send/{action}")
def steer_send(request: Request, edition_id: int, action: dispatch.SendAction,
               user: StaffUser = Depends(ops_only), _: FormData = Depends(checked_form),
               session: Session = Depends(db_session)):
    path = f"/staff/editions/{edition_id}/send"
    try:
        notice = dispatch.steer(session, request.app.state.settings, edition_id, action)
    except SendError as exc:
        return back(request, path, error=str(exc))
    return back(request, path, notice=notice)


@router.get("/sources")
def sources(request: Request, user: StaffUser = Depends(anyone), session: Session = Depends(db_session)):
    return staff_page(request, "sources.html", sources=list_sources(session),
                      pictures=pictures.source_pictures(session), days=pictures.SOURCE_DAYS)


@router.post("/sources/import")
def sources_import(request: Request, user: StaffUser = Depends(ops_only),
                   form: FormData = Depends(checked_form), session: Session = Depends(db_session)):
    upload: UploadFile = form.get("file")
    if not upload or not upload.filename:
        return back(request, "/staff/sources", error="file: choose an OPML file to import")
    try:
        outcomes = import_opml(session, upload.file.read(MAX_BYTES + 1),
                               policy=limits_from(request.app.state.settings).policy)
    except OpmlError as exc:
        return back(request, "/staff/sources", error=f"{upload.filename}: {exc}; nothing imported")
    untaken = sections_no_list_takes(session, outcomes)
    session.commit()
    return staff_page(request, "sources_import.html", outcomes=outcomes, filename=upload.filename,
                      untaken=untaken)


@router.get("/sources/export.opml")
def sources_export(user: StaffUser = Depends(anyone), session: Session = Depends(db_session)):
    return Response(export_opml(session), media_type="text/x-opml; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="sources.opml"'})


@router.get("/subscribers")
def subscribers(request: Request, q: str = "", user: StaffUser = Depends(ops_only),
                session: Session = Depends(db_session)):
    found = []
    if q.strip():
        pattern = f"%{q.strip().lower()}%"
        found = session.exec(select(Subscriber).where(or_(
            Subscriber.email.like(pattern), Subscriber.name.ilike(pattern)))
            .order_by(Subscriber.email).limit(SEARCH_LIMIT)).all()
    lists = session.exec(select(DigestList).order_by(DigestList.name)).all()
    return staff_page(request, "subscribers.html", q=q, found=found, lists=lists)


@router.get("/subscribers/{subscriber_id}")
def subscriber(request: Request, subscriber_id: int, user: StaffUser = Depends(ops_only),
               session: Session = Depends(db_session)):
    person = session.get(Subscriber, subscriber_id)
    if person is None:
        return back(request, "/staff/subscribers", error=f"There is no subscriber {subscriber_id}.")
    subscriptions = session.exec(select(Subscription, DigestList).join(
        DigestList, DigestList.id == Subscription.list_id).where(Subscription.subscriber_id == subscriber_id)).all()
    history = session.exec(select(Delivery, Edition).join(Edition, Edition.id == Delivery.edition_id)
                           .where(Delivery.subscriber_id == subscriber_id)
                           .order_by(Delivery.id.desc()).limit(100)).all()
    return staff_page(request, "subscriber.html", person=person, subscriptions=subscriptions, history=history)


@router.post("/subscribers/import")
def import_upload(request: Request, user: StaffUser = Depends(ops_only),
                  form: FormData = Depends(checked_form), session: Session = Depends(db_session)):
    upload: UploadFile = form.get("file")
    slug = form.get("list", "")
    if not upload or not upload.filename:
        return back(request, "/staff/subscribers", error="file: choose a CSV file to import")
    text = upload.file.read().decode("utf-8-sig", errors="replace")
    try:
        report = import_csv(session, slug, io.StringIO(text))
    except UnknownList as exc:
        return back(request, "/staff/subscribers", error=str(exc))
    return staff_page(request, "import_report.html", report=report, list_slug=slug, filename=upload.filename)


@router.get("/subscribers/export/{slug}")
def export(slug: str, user: StaffUser = Depends(ops_only), session: Session = Depends(db_session)):
    out = io.StringIO()
    export_csv(session, slug, out)
    return StreamingResponse(iter([out.getvalue()]), media_type="text/csv",
                             headers={"Content-Disposition": f'attachment; filename="{slug}.csv"'})
