"""Editor pages: the drafts, a draft with its exact preview, and every edit an editor makes.

Each action calls the same service function as the CLI (digest.curate.editor and friends).
"""

from __future__ import annotations

from collections.abc import Callable

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
from digest.settings import Settings
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


# What an editor does to a draft: each change runs its service call and says what the
# draft page then shows; a refusal (EditionError, SendError) is shown instead.
Change = Callable[[Session, Settings, StaffUser, int, int | None, FormData], str]


def _move(session, settings, user, edition_id, item_id, form) -> str:
    try:
        position = int(form.get("position", "")) - 1
    except ValueError:
        raise EditionError("position: a number is needed") from None
    editor.move_item(session, edition_id, item_id, position)
    return f"Moved to position {position + 1}."


def _remove(session, settings, user, edition_id, item_id, form) -> str:
    editor.remove_item(session, edition_id, item_id)
    return "Story removed."


def _pin(session, settings, user, edition_id, item_id, form) -> str:
    pinned = form.get("pinned") == "1"
    editor.pin_item(session, edition_id, item_id, pinned)
    return "Pinned." if pinned else "Unpinned."


def _edit(session, settings, user, edition_id, item_id, form) -> str:
    editor.edit_item(session, edition_id, item_id, headline=form.get("headline"),
                     summary=form.get("summary"))
    return "Story updated."


def _envelope(session, settings, user, edition_id, item_id, form) -> str:
    editor.edit_envelope(session, edition_id, subject=form.get("subject"),
                         preheader=form.get("preheader"), subject_b=form.get("subject_b"))
    return "Subject and preheader saved."


def _add(session, settings, user, edition_id, item_id, form) -> str:
    editor.add_story(session, edition_id, (form.get("url") or "").strip(), limits=limits_from(settings))
    return "Story added."


def _approve(session, settings, user, edition_id, item_id, form) -> str:
    approve(session, edition_id)
    return "Approved: ops can send it now."


def _test_copy(session, settings, user, edition_id, item_id, form) -> str:
    send_test(session, settings, get_backend(settings), edition_id, user.email)
    return f"A test copy is on its way to {user.email}."


ITEM_CHANGES: dict[str, Change] = {"move": _move, "remove": _remove, "pin": _pin, "edit": _edit}
DRAFT_CHANGES: dict[str, Change] = {"envelope": _envelope, "add": _add, "approve": _approve,
                                    "test": _test_copy}


def _apply(request: Request, changes: dict[str, Change], change: str, session: Session,
           user: StaffUser, edition_id: int, item_id: int | None, form: FormData):
    if change not in changes:
        raise HTTPException(404, f"There is no such change: {change!r}.")
    path = f"/staff/editions/{edition_id}"
    try:
        notice = changes[change](session, request.app.state.settings, user, edition_id, item_id, form)
        session.commit()
    except (EditionError, SendError) as exc:
        session.rollback()
        return back(request, path, error=str(exc))
    return back(request, path, notice=notice)


@router.post("/editions/{edition_id}/items/{item_id}/{change}")
def change_item(request: Request, edition_id: int, item_id: int, change: str,
                user: StaffUser = Depends(editor_only), form: FormData = Depends(checked_form),
                session: Session = Depends(db_session)):
    return _apply(request, ITEM_CHANGES, change, session, user, edition_id, item_id, form)


@router.post("/editions/{edition_id}/{change}")
def change_draft(request: Request, edition_id: int, change: str, user: StaffUser = Depends(editor_only),
                 form: FormData = Depends(checked_form), session: Session = Depends(db_session)):
    return _apply(request, DRAFT_CHANGES, change, session, user, edition_id, None, form)
