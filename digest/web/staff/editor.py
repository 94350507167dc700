"""Editor pages: the drafts, a draft with its exact preview, and every edit an editor makes.

Each action calls the same service function as the CLI (digest.curate.editor and friends).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse
from sqlmodel import Session, select
from starlette.datastructures import FormData

from digest.curate import editor
from digest.curate.editions import EditionError, approve, candidates, items
from digest.curate.rank import rank
from digest.ingest.fetch import limits_from
from digest.mail.backends import get_backend
from digest.models import DigestList, Edition, Source, StaffUser, Story, utcnow
from digest.render.checks import check_edition
from digest.render.digest import preview
from digest.send.control import SendError, send_test
from digest.staff.accounts import Permission
from digest.web.deps import db_session
from digest.web.staff.auth import require
from digest.web.staff.common import back, checked_form, staff_page
from digest.subscribers.links import preview_values

router = APIRouter(prefix="/staff")
anyone = require()
editor_only = require(Permission.EDIT)
CANDIDATES_SHOWN = 15


@router.get("/")
def dashboard(request: Request, user: StaffUser = Depends(anyone), session: Session = Depends(db_session)):
    editions = session.exec(select(Edition).order_by(Edition.slot.desc(), Edition.id.desc()).limit(50)).all()
    lists = {d.id: d for d in session.exec(select(DigestList)).all()}
    return staff_page(request, "dashboard.html", editions=editions, lists=lists)


def _edition(session: Session, edition_id: int) -> Edition:
    edition = session.get(Edition, edition_id, populate_existing=True)
    if edition is None:
        raise HTTPException(404, f"There is no edition {edition_id}.")
    return edition


@router.get("/editions/{edition_id}")
def draft_page(request: Request, edition_id: int, user: StaffUser = Depends(anyone),
               session: Session = Depends(db_session)):
    edition = _edition(session, edition_id)
    digest_list = session.get(DigestList, edition.list_id)
    settings = request.app.state.settings
    sample = preview_values(settings, edition)
    current = items(session, edition_id)
    stories = {s.id: s for s in session.exec(select(Story).where(Story.id.in_([i.story_id for i in current]))).all()}
    sources = {s.id: s.name for s in session.exec(select(Source)).all()}
    in_edition = {i.story_id for i in current}
    ranked = [r for r in rank(candidates(session, digest_list, utcnow()), utcnow())
              if r.story.id not in in_edition][:CANDIDATES_SHOWN]
    return staff_page(
        request, "draft.html", edition=edition, digest_list=digest_list, items=current,
        stories=stories, sources=sources, candidates=ranked,
        findings=check_edition(session, settings, edition, sample) if current else [],
        text_part=preview(session, settings, edition, sample).text,
        editable=edition.status == "draft")


@router.get("/editions/{edition_id}/preview", response_class=HTMLResponse)
def draft_preview(request: Request, edition_id: int, user: StaffUser = Depends(anyone),
                  session: Session = Depends(db_session)):
    """The mail exactly as it will be sent (production renderer, a sample reader), for the
    console's sandboxed iframe: no scripts, and only our own pages may frame it."""
    settings = request.app.state.settings
    edition = _edition(session, edition_id)
    html = preview(session, settings, edition, preview_values(settings, edition)).html
    return HTMLResponse(html, headers={
        "Content-Security-Policy": "sandbox; default-src 'none'; img-src * data:; style-src 'unsafe-inline'; "
                                   "frame-ancestors 'self'"})


def _act(request: Request, edition_id: int, action, notice: str):
    """Run an editor action; its refusal becomes a message on the draft page."""
    path = f"/staff/editions/{edition_id}"
    try:
        action()
    except (EditionError, SendError) as exc:
        return back(request, path, error=str(exc))
    return back(request, path, notice=notice)


@router.post("/editions/{edition_id}/items/{item_id}/move")
def move(request: Request, edition_id: int, item_id: int, user: StaffUser = Depends(editor_only),
         form: FormData = Depends(checked_form), session: Session = Depends(db_session)):
    try:
        position = int(form.get("position", "")) - 1
    except ValueError:
        return back(request, f"/staff/editions/{edition_id}", error="position: a number is needed")

    def action():
        editor.move_item(session, edition_id, item_id, position)
        session.commit()
    return _act(request, edition_id, action, f"Moved to position {position + 1}.")


@router.post("/editions/{edition_id}/items/{item_id}/remove")
def remove(request: Request, edition_id: int, item_id: int, user: StaffUser = Depends(editor_only),
           _: FormData = Depends(checked_form), session: Session = Depends(db_session)):
    def action():
        editor.remove_item(session, edition_id, item_id)
        session.commit()
    return _act(request, edition_id, action, "Story removed.")


@router.post("/editions/{edition_id}/items/{item_id}/pin")
def pin(request: Request, edition_id: int, item_id: int, user: StaffUser = Depends(editor_only),
        form: FormData = Depends(checked_form), session: Session = Depends(db_session)):
    pinned = form.get("pinned") == "1"

    def action():
        editor.pin_item(session, edition_id, item_id, pinned)
        session.commit()
    return _act(request, edition_id, action, "Pinned." if pinned else "Unpinned.")


@router.post("/editions/{edition_id}/items/{item_id}/edit")
def edit(request: Request, edition_id: int, item_id: int, user: StaffUser = Depends(editor_only),
         form: FormData = Depends(checked_form), session: Session = Depends(db_session)):
    def action():
        editor.edit_item(session, edition_id, item_id, headline=form.get("headline"),
                         summary=form.get("summary"))
        session.commit()
    return _act(request, edition_id, action, "Story updated.")


@router.post("/editions/{edition_id}/envelope")
def envelope(request: Request, edition_id: int, user: StaffUser = Depends(editor_only),
             form: FormData = Depends(checked_form), session: Session = Depends(db_session)):
    def action():
        editor.edit_envelope(session, edition_id, subject=form.get("subject"),
                             preheader=form.get("preheader"), subject_b=form.get("subject_b"))
        session.commit()
    return _act(request, edition_id, action, "Subject and preheader saved.")


@router.post("/editions/{edition_id}/add")
def add(request: Request, edition_id: int, user: StaffUser = Depends(editor_only),
        form: FormData = Depends(checked_form), session: Session = Depends(db_session)):
    limits = limits_from(request.app.state.settings)

    def action():
        editor.add_story(session, edition_id, (form.get("url") or "").strip(), limits=limits)
        session.commit()
    return _act(request, edition_id, action, "Story added.")


@router.post("/editions/{edition_id}/approve")
def approve_draft(request: Request, edition_id: int, user: StaffUser = Depends(editor_only),
                  _: FormData = Depends(checked_form), session: Session = Depends(db_session)):
    def action():
        approve(session, edition_id)
        session.commit()
    return _act(request, edition_id, action, "Approved: ops can send it now.")


@router.post("/editions/{edition_id}/test")
def test_copy(request: Request, edition_id: int, user: StaffUser = Depends(editor_only),
              _: FormData = Depends(checked_form), session: Session = Depends(db_session)):
    settings = request.app.state.settings
    return _act(request, edition_id,
                lambda: send_test(session, settings, get_backend(settings), edition_id, user.email),
                f"A test copy is on its way to {user.email}.")
