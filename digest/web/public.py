"""Public pages: the lists, sign-up (this app's form, the form embedded in the publisher's
own pages, and the JSON API), confirmation.

Every accepted sign-up gets the same answer ("check your inbox"), whether the address is
new, pending, active, suppressed, over its limit or caught by the honeypot: the form
must not reveal who subscribes. Only a malformed address, too many sign-ups from one IP
or an embedded form on a site not allowed to host it get a different answer, and none
says anything about a subscriber.

The embedded form and the JSON API take sign-ups from other sites without a CSRF token.
That is safe because a sign-up only ever records a pending subscription and queues a
confirmation, bounded per address and day, so a forged one costs the address at most
that mail (docs/subscribers.md, "Sign-up from other sites").
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
from digest import zones
from digest.web import csrf, origins
from digest.web.deps import db_session, notify, page, settings

log = logging.getLogger(__name__)
router = APIRouter()

ACCEPTED = "Thanks. If this address can be subscribed, a confirmation link is on its way: check your inbox."
TOO_MANY = "Too many sign-ups from your network. Please try again later."


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
                    values=values or {}, csrf_field=csrf.FIELD, csrf_token=token,
                    zone_groups=zones.choices(digest_list.timezone))
    csrf.set_cookie(response, token, secure=request.app.state.settings.public_url.startswith("https"))
    return response


@router.get("/subscribe/{slug}")
def signup_form(request: Request, slug: str, session: Session = Depends(db_session)):
    return _form(request, _list_or_404(session, slug))


def _client_ip(request: Request) -> str:
    # Behind a proxy, run uvicorn with --proxy-headers so this is the visitor's address.
    return request.client.host if request.client else "unknown"


class TooManySignUps(Exception):
    """Over the per-IP limit (a 429)."""


def _attempt(request: Request, session: Session, config: Settings, queue: Notify,
             slug: str, email: str, name: str | None, topics: list[str], timezone: str | None = None) -> None:
    """Apply the limits and sign up; raises BadAddress, BadZone or TooManySignUps. The
    confirmation is only queued, so the relay's state never shows in the answer."""
    limits = request.app.state.signup_limits
    if not limits.allow_ip(_client_ip(request)):
        raise TooManySignUps
    if not limits.allow_address(normalise_email(email)):
        log.info("sign-up for list %s: per-address limit reached", slug)
        return
    sign_up(session, config, queue, list_slug=slug, email=email, name=name, topics=topics, timezone=timezone)


@router.post("/subscribe/{slug}")
def signup_submit(request: Request, slug: str, email: str = Form(""), name: str = Form(""),
                  topics: list[str] = Form([]), website: str = Form(""), timezone: str = Form(""),
                  csrf_token: str = Form(""), session: Session = Depends(db_session),
                  config: Settings = Depends(settings), queue: Notify = Depends(notify)):
    digest_list = _list_or_404(session, slug)
    csrf.check(request, csrf_token)
    return _submitted(request, session, config, queue, digest_list, email, name, topics, website, timezone)


@router.post("/embed/{slug}/subscribe")
def embedded_signup(request: Request, slug: str, email: str = Form(""), name: str = Form(""),
                    topics: list[str] = Form([]), website: str = Form(""), timezone: str = Form(""),
                    session: Session = Depends(db_session), config: Settings = Depends(settings),
                    queue: Notify = Depends(notify)):
    """The form the console gives out for the publisher's own pages (staff/lists.py).

    It posts from another site, which can carry no cookie of ours, so there is no CSRF
    check; with DIGEST_SIGNUP_ORIGINS set, the post must come from one of those sites."""
    digest_list = _list_or_404(session, slug)
    if not origins.may_host_form(request):
        log.info("embedded sign-up for list %s from %s refused", slug, origins.sender_origin(request))
        return _form(request, digest_list, status_code=403,
                     values={"email": email, "name": name, "topics": topics},
                     error="The form you used is not on a site allowed to sign people up. "
                           "You can subscribe here instead.")
    return _submitted(request, session, config, queue, digest_list, email, name, topics, website, timezone)


def _submitted(request: Request, session: Session, config: Settings, queue: Notify,
               digest_list: DigestList, email: str, name: str, topics: list[str], website: str,
               timezone: str = ""):
    """A form's sign-up, answered with a page: "check your inbox", or the form again with
    what to correct."""
    slug = digest_list.slug
    if website:     # the honeypot: a field people cannot see and bots fill in
        log.info("sign-up for list %s: honeypot filled, ignored", slug)
        return page(request, "signup_done.html", digest_list=digest_list, message=ACCEPTED)
    try:
        _attempt(request, session, config, queue, slug, email, name or None, topics, timezone or None)
    except BadAddress as exc:
        return _form(request, digest_list, status_code=422, error=f"Please check the address: {exc}",
                     values={"email": email, "name": name, "topics": topics, "timezone": timezone})
    except zones.BadZone:
        return _form(request, digest_list, status_code=422, error="Please choose your time zone from the list.",
                     values={"email": email, "name": name, "topics": topics})
    except TooManySignUps:
        return page(request, "message.html", 429, title="Please try again later", message=TOO_MANY)
    return page(request, "signup_done.html", digest_list=digest_list, message=ACCEPTED)


class SignUpRequest(BaseModel):
    email: str = Field(max_length=320)
    name: str | None = Field(default=None, max_length=200)
    topics: list[str] = Field(default_factory=list, max_length=50)
    timezone: str | None = Field(default=None, max_length=64, description="IANA name; default: the list's.")


@router.post("/api/lists/{slug}/subscribe", status_code=202)
def signup_api(request: Request, slug: str, body: SignUpRequest, session: Session = Depends(db_session),
               config: Settings = Depends(settings), queue: Notify = Depends(notify)):
    """JSON sign-up for forms with scripts on other sites. No CSRF token: a JSON body
    cannot be sent cross-site without a CORS preflight, which this app grants only to
    DIGEST_SIGNUP_ORIGINS (digest/web/origins.py)."""
    _list_or_404(session, slug)
    try:
        _attempt(request, session, config, queue, slug, body.email, body.name, body.topics, body.timezone)
    except BadAddress as exc:
        return JSONResponse({"detail": f"invalid email address: {exc}"}, status_code=422)
    except zones.BadZone as exc:
        return JSONResponse({"detail": f"timezone: {exc}"}, status_code=422)
    except TooManySignUps:
        return JSONResponse({"detail": TOO_MANY}, status_code=429)
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
