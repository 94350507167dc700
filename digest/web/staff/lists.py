"""The lists in the console, for each the pictures of its recent editions and the sign-up form to paste into the publisher's
own pages: plain HTML, no script, posting to this app's /embed/<slug>/subscribe."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Depends, Request
from sqlmodel import Session, select

from digest import zones
from digest.models import DigestList, StaffUser
from digest.schedule import next_slot
from digest.send import waves
from digest.settings import Settings
from digest.subscribers.signup import UnknownList, list_by_slug
from digest.web.deps import db_session, templates
from digest.web.staff import pictures
from digest.web.staff.auth import require
from digest.web.staff.common import back, staff_page

router = APIRouter(prefix="/staff")
anyone = require()


def embed_snippet(settings: Settings, digest_list: DigestList) -> str:
    """The HTML of the list's embeddable sign-up form (templates/web/embed_form.html)."""
    return templates.get_template("embed_form.html").render(
        digest_list=digest_list, action=f"{settings.public_url}/embed/{digest_list.slug}/subscribe",
        zone_groups=zones.choices(digest_list.timezone))


@router.get("/lists")
def lists_page(request: Request, user: StaffUser = Depends(anyone), session: Session = Depends(db_session)):
    lists = session.exec(select(DigestList).order_by(DigestList.name)).all()
    return staff_page(request, "lists.html", lists=lists,
                      upcoming={l.id: next_slot(session, l) for l in lists if waves.is_local(l)},
                      track_clicks=request.app.state.settings.track_clicks)


def _list_page(request: Request, session: Session, slug: str, name: str, context: Callable[[DigestList], dict]):
    """A page about one list, or back to the lists naming the one not found."""
    try:
        digest_list = list_by_slug(session, slug)
    except UnknownList:
        return back(request, "/staff/lists", error=f"There is no list {slug!r}.")
    return staff_page(request, name, digest_list=digest_list, **context(digest_list))


@router.get("/lists/{slug}/editions")
def list_editions_page(request: Request, slug: str, user: StaffUser = Depends(anyone),
                       session: Session = Depends(db_session)):
    return _list_page(request, session, slug, "list_editions.html", lambda digest_list: {
        "pictures": pictures.list_pictures(session, digest_list.id), "limit": pictures.LIST_EDITIONS})


@router.get("/lists/{slug}/signup-form")
def signup_form_page(request: Request, slug: str, user: StaffUser = Depends(anyone),
                     session: Session = Depends(db_session)):
    settings: Settings = request.app.state.settings
    return _list_page(request, session, slug, "signup_form.html", lambda digest_list: {
        "snippet": embed_snippet(settings, digest_list), "origins": settings.signup_origins})
