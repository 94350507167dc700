"""Pages behind the signed links in every mail: unsubscribe (with RFC 8058 one-click) and
preferences (lists, topics, name, download my data, delete me).

A GET never changes anything: link scanners and prefetchers follow every link in a mail.
The signed token is the authority, so these forms need no CSRF cookie and no login. Each
token opens only what it was made for: the unsubscribe link, which mail providers see in
a header, leads to no preferences page (that shows the data and deletes the subscriber).
"""

from __future__ import annotations

import json

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import PlainTextResponse, RedirectResponse, Response
from sqlmodel import Session
from starlette.datastructures import FormData

from digest import zones
from digest.models import DigestList, Subscriber
from digest.settings import Settings
from digest.subscribers import manage
from digest.subscribers.notify import Kind, Notice, Notify, list_name
from digest.subscribers.tokens import InvalidToken, Purpose, subscriber_for
from digest.web.deps import db_session, notify, page, settings

router = APIRouter()


def _holder(session: Session, config: Settings, purpose: Purpose,
            token: str) -> tuple[Subscriber | None, int | None]:
    """The subscriber (None once erased) and list the token was made for."""
    try:
        return subscriber_for(session, config.secret_key, purpose, token)
    except InvalidToken as exc:
        raise HTTPException(400, f"Sorry, {exc}.") from None


def _subscriber(session: Session, config: Settings, token: str) -> Subscriber:
    subscriber, _ = _holder(session, config, Purpose.PREFERENCES, token)
    if subscriber is None:
        raise HTTPException(404, "There is no subscriber behind this link any more.")
    return subscriber


@router.get("/unsubscribe/{token}")
def unsubscribe_page(request: Request, token: str, session: Session = Depends(db_session),
                     config: Settings = Depends(settings)):
    _, list_id = _holder(session, config, Purpose.UNSUBSCRIBE, token)
    digest_list = session.get(DigestList, list_id) if list_id is not None else None
    return page(request, "unsubscribe.html", token=token, digest_list=digest_list)


@router.post("/unsubscribe/{token}")
def unsubscribe_submit(request: Request, token: str,
                       one_click: str = Form("", alias="List-Unsubscribe"),
                       scope: str = Form("list"), session: Session = Depends(db_session),
                       config: Settings = Depends(settings), queue: Notify = Depends(notify)):
    subscriber, list_id = _holder(session, config, Purpose.UNSUBSCRIBE, token)
    target = None if scope == "all" else list_id
    # Erased already: nothing left to unsubscribe.
    changed = subscriber is not None and manage.unsubscribe(session, subscriber.id, target)
    if one_click == "One-Click":
        # RFC 8058: the mail client POSTs this itself; a 200, no redirect, nothing to click.
        return PlainTextResponse("You are unsubscribed.\n")
    if changed and config.send_goodbye:
        queue(Notice(Kind.GOODBYE, subscriber.id, target))
    digest_list = session.get(DigestList, target) if target is not None else None
    # Coming back goes through the sign-up form and its confirmation mail.
    return page(request, "unsubscribed.html", list_name=list_name(config, digest_list),
                again_url=f"/subscribe/{digest_list.slug}" if digest_list else "/")


@router.get("/preferences/{token}")
def preferences_page(request: Request, token: str, saved: bool = False,
                     session: Session = Depends(db_session), config: Settings = Depends(settings)):
    subscriber, choices = manage.preferences(session, _subscriber(session, config, token).id)
    return page(request, "preferences.html", token=token, subscriber=subscriber,
                choices=choices, saved=saved, zone_groups=zones.choices(subscriber.timezone or "UTC"))


async def raw_form(request: Request) -> FormData:
    return await request.form()


@router.post("/preferences/{token}")
def preferences_submit(request: Request, token: str, form: FormData = Depends(raw_form),
                       session: Session = Depends(db_session), config: Settings = Depends(settings)):
    subscriber = _subscriber(session, config, token)
    # The topic fields are named per list (topics-<list id>), hence the raw form.
    lists = {int(v) for v in form.getlist("lists") if str(v).isdigit()}
    topics = {int(key.removeprefix("topics-")): [str(t) for t in form.getlist(key)]
              for key in form if key.startswith("topics-") and key.removeprefix("topics-").isdigit()}
    try:
        manage.update_preferences(session, subscriber.id, name=str(form.get("name", "")),
                                  lists=lists, topics=topics, timezone=str(form.get("timezone", "")))
    except zones.BadZone:
        _, choices = manage.preferences(session, subscriber.id)
        return page(request, "preferences.html", 422, token=token, subscriber=subscriber, choices=choices,
                    saved=False, zone_groups=zones.choices(subscriber.timezone or "UTC"),
                    zone_error="Choose your time zone from the list; nothing was changed.")
    # Post/redirect/get: a reload does not post the form again.
    return RedirectResponse(f"/preferences/{token}?saved=1", status_code=303)


@router.get("/preferences/{token}/data.json")
def download_data(token: str, session: Session = Depends(db_session),
                  config: Settings = Depends(settings)):
    data = manage.export_data(session, _subscriber(session, config, token).id)
    return Response(json.dumps(data, indent=2, ensure_ascii=False), media_type="application/json",
                    headers={"Content-Disposition": 'attachment; filename="my-subscription-data.json"'})


@router.post("/preferences/{token}/erase")
def erase_submit(request: Request, token: str, confirm: str = Form(""),
                 session: Session = Depends(db_session), config: Settings = Depends(settings)):
    subscriber = _subscriber(session, config, token)
    if confirm != "yes":
        _, choices = manage.preferences(session, subscriber.id)
        return page(request, "preferences.html", 422, token=token, subscriber=subscriber,
                    choices=choices, saved=False,
                    zone_groups=zones.choices(subscriber.timezone or "UTC"), erase_error="Tick the box to confirm that everything should be deleted.")
    manage.erase(session, subscriber.id)
    return page(request, "message.html", title="Your data is deleted",
                message="We deleted your address and everything about it. We keep only a "
                        "one-way fingerprint of the address so that we never mail it again.")
