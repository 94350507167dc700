"""Public pages: the lists, sign-up (form and JSON API), confirmation.

Every accepted sign-up gets the same answer ("check your inbox"), whether the address is
new, pending, active, suppressed, over its limit or caught by the honeypot: the form
must not reveal who subscribes. Only a malformed address or too many sign-ups from one
IP get a different answer, and neither says anything about a subscriber.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlmodel import Session, select

from digest.models import DigestList
from digest.settings import Settings
from digest.subscribers.addresses import BadAddress, normalise_email
from digest.subscribers.notify import Notify
from digest.subscribers.signup import UnknownList, confirm, list_by_slug, sign_up
from digest.subscribers.tokens import InvalidToken, Purpose, read_token
from digest.web import csrf
from digest.web.deps import db_session, notify, page, settings

log = logging.getLogger(__name__)
router = APIRouter()

ACCEPTED = "Thanks. If this address can be subscribed, a confirmation link is on its way: check your inbox."


@router.get("/")
def home(request: Request, session: Session = Depends(db_session)):
    lists = session.exec(select(DigestList).order_by(DigestList.name)).all()
    return page(request, "home.html", lists=lists)


def _list_or_404(session: Session, slug: str) -> DigestList:
    try:
        return list_by_slug(session, slug)
    except UnknownList:
        raise HTTPException(404, "There is no such newsletter.") from None


def _form(request: Request, digest_list: DigestList, *, status_code: int = 200, error: str = "",
          values: dict | None = None):
    token = csrf.form_token(request)
    response = page(request, "signup.html", status_code, digest_list=digest_list, error=error,
                    values=values or {}, csrf_field=csrf.FIELD, csrf_token=token)
    csrf.set_cookie(response, token, secure=request.app.state.settings.public_url.startswith("https"))
    return response


@router.get("/subscribe/{slug}")
def signup_form(request: Request, slug: str, session: Session = Depends(db_session)):
    return _form(request, _list_or_404(session, slug))


def _client_ip(request: Request) -> str:
    # Behind a proxy, run uvicorn with --proxy-headers so this is the visitor's address.
    return request.client.host if request.client else "unknown"


def _attempt(request: Request, session: Session, config: Settings, queue: Notify,
             slug: str, email: str, name: str | None, topics: list[str]) -> None:
    """Apply the limits and sign up; raises BadAddress, or HTTPException (429). The
    confirmation is only queued, so the relay's state never shows in the answer."""
    limits = request.app.state.signup_limits
    if not limits.allow_ip(_client_ip(request)):
        raise HTTPException(429, "Too many sign-ups from your network. Please try again later.")
    if not limits.allow_address(normalise_email(email)):
        log.info("sign-up for list %s: per-address limit reached", slug)
        return
    sign_up(session, config, queue, list_slug=slug, email=email, name=name, topics=topics)


@router.post("/subscribe/{slug}")
def signup_submit(request: Request, slug: str, email: str = Form(""), name: str = Form(""),
                  topics: list[str] = Form([]), website: str = Form(""),
                  csrf_token: str = Form(""), session: Session = Depends(db_session),
                  config: Settings = Depends(settings), queue: Notify = Depends(notify)):
    digest_list = _list_or_404(session, slug)
    csrf.check(request, csrf_token)
    if website:     # the honeypot: a field people cannot see and bots fill in
        log.info("sign-up for list %s: honeypot filled, ignored", slug)
        return page(request, "signup_done.html", digest_list=digest_list, message=ACCEPTED)
    try:
        _attempt(request, session, config, queue, slug, email, name or None, topics)
    except BadAddress as exc:
        return _form(request, digest_list, status_code=422, error=f"Please check the address: {exc}",
                     values={"email": email, "name": name, "topics": topics})
    return page(request, "signup_done.html", digest_list=digest_list, message=ACCEPTED)


class SignUpRequest(BaseModel):
    email: str = Field(max_length=320)
    name: str | None = Field(default=None, max_length=200)
    topics: list[str] = Field(default_factory=list, max_length=50)


@router.post("/api/lists/{slug}/subscribe", status_code=202)
def signup_api(request: Request, slug: str, body: SignUpRequest, session: Session = Depends(db_session),
               config: Settings = Depends(settings), queue: Notify = Depends(notify)):
    """JSON sign-up for forms embedded elsewhere. No CSRF token: a JSON body cannot be
    sent cross-site without a CORS preflight, which this app never grants."""
    _list_or_404(session, slug)
    try:
        _attempt(request, session, config, queue, slug, body.email, body.name, body.topics)
    except BadAddress as exc:
        return JSONResponse({"detail": f"invalid email address: {exc}"}, status_code=422)
    return {"detail": ACCEPTED}


def _invalid_link(request: Request, exc: InvalidToken):
    return page(request, "message.html", 400, title="Link not valid",
                message=f"Sorry, {exc}. Sign up again to get a new link.")


@router.get("/confirm/{token}")
def confirm_page(request: Request, token: str, config: Settings = Depends(settings)):
    # A GET changes nothing (mail scanners follow links): the page's button POSTs.
    try:
        read_token(config.secret_key, Purpose.CONFIRM, token)
    except InvalidToken as exc:
        return _invalid_link(request, exc)
    return page(request, "confirm.html", token=token)


@router.post("/confirm/{token}")
def confirm_submit(request: Request, token: str, session: Session = Depends(db_session),
                   config: Settings = Depends(settings), queue: Notify = Depends(notify)):
    try:
        confirmed = confirm(session, config, queue, token)
    except InvalidToken as exc:
        return _invalid_link(request, exc)
    return page(request, "confirmed.html", digest_list=confirmed.digest_list, status="active")
