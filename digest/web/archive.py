"""The public archive: each list's sent editions ("view in browser") and their RSS feed.

Only editions whose mail went out are public (a draft's test copy links to its page with a
signed key), each rendered by the production renderer for nobody in particular.
"""

from __future__ import annotations

from email.utils import format_datetime

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse
from sqlmodel import Session, select

from digest.models import DigestList, Edition, EditionStatus
from digest.render.context import PUBLISHED, may_view
from digest.render.digest import archive_html
from digest.settings import Settings
from digest.subscribers.signup import UnknownList, list_by_slug
from digest.web.deps import db_session, settings, templates

router = APIRouter()
FEED_SIZE = 50


def _sent(session: Session, slug: str) -> tuple[DigestList, list[Edition]]:
    try:
        digest_list = list_by_slug(session, slug)
    except UnknownList:
        raise HTTPException(404, "There is no such newsletter.") from None
    editions = session.exec(
        select(Edition).where(Edition.list_id == digest_list.id, Edition.status == EditionStatus.SENT)
        .order_by(Edition.sent_at.desc(), Edition.id.desc()).limit(FEED_SIZE)).all()
    return digest_list, list(editions)


@router.get("/archive/{slug}")
def archive_index(request: Request, slug: str, session: Session = Depends(db_session)):
    digest_list, editions = _sent(session, slug)
    return templates.TemplateResponse(request, "archive.html", {
        "brand": request.app.state.settings.brand_name, "digest_list": digest_list,
        "editions": editions})


@router.get("/archive/{slug}/feed.xml")
def archive_feed(request: Request, slug: str, session: Session = Depends(db_session),
                 config: Settings = Depends(settings)):
    digest_list, editions = _sent(session, slug)
    return templates.TemplateResponse(request, "feed.xml", {
        "digest_list": digest_list, "base": config.public_url,
        "items": [(e, format_datetime(e.sent_at or e.slot, usegmt=True)) for e in editions],
        "updated": format_datetime(editions[0].sent_at, usegmt=True) if editions else None,
    }, media_type="application/rss+xml")


@router.get("/archive/{slug}/{edition_id}", response_class=HTMLResponse)
def archive_edition(slug: str, edition_id: int, key: str | None = None,
                    session: Session = Depends(db_session), config: Settings = Depends(settings)):
    """An edition's web copy: public once its mail went out; a draft's only with the signed
    key of its test copy's "View in browser" link (never indexed, never cached)."""
    digest_list, _ = _sent(session, slug)
    edition = session.get(Edition, edition_id)
    if edition is None or edition.list_id != digest_list.id or not may_view(config, edition, key):
        raise HTTPException(404, "There is no such edition in the archive.")
    headers = {} if edition.status in PUBLISHED else {
        "Cache-Control": "private, no-store", "X-Robots-Tag": "noindex"}
    return HTMLResponse(archive_html(session, config, edition), headers=headers)
