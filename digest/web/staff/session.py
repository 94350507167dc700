"""Signing in and out of the console."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse
from sqlmodel import Session
from starlette.datastructures import FormData

from digest.models import StaffUser
from digest.staff.accounts import authenticate
from digest.web import csrf
from digest.web.deps import db_session
from digest.web.staff.auth import end_session, known_device, remember_device, require, start_session
from digest.web.staff.common import checked_form, form_checked_against, staff_page

router = APIRouter(prefix="/staff")
FAILED = "That email and password do not match an account."
# Nobody is signed in yet: the sign-in form carries a double-submit token.
login_form_checked = form_checked_against(csrf.cookie_token)


def _safe_next(value: str) -> str:
    # Only our own console pages: never an open redirect.
    return value if value.startswith("/staff/") and not value.startswith("//") else "/staff/"


@router.get("/login")
def login_form(request: Request, next: str = "/staff/"):
    return staff_page(request, "login.html", next=_safe_next(next), error="", email="")


@router.post("/login")
def login(request: Request, form: FormData = Depends(login_form_checked),
          session: Session = Depends(db_session)):
    email = str(form.get("email", "")).strip().lower()
    ip = request.client.host if request.client else "unknown"
    device = known_device(request, email)
    limits = request.app.state.login_limits
    target = _safe_next(str(form.get("next", "/staff/")))
    if limits.blocked(email, ip, device):
        return staff_page(request, "login.html", 429, next=target, email=email,
                          error="Too many failed attempts. Wait a few minutes and try again.")
    user = authenticate(session, email, str(form.get("password", "")))
    if user is None:
        limits.failed(email, ip, device)
        return staff_page(request, "login.html", 401, next=target, email=email, error=FAILED)
    response = RedirectResponse(target, status_code=303)
    start_session(request, response, session, user)
    remember_device(request, response, email)
    session.commit()  # the session, and a rehashed password
    return response


@router.post("/logout")
def logout(request: Request, user: StaffUser = Depends(require()), _: FormData = Depends(checked_form),
           session: Session = Depends(db_session)):
    response = RedirectResponse("/staff/login", status_code=303)
    end_session(request, response, session)
    session.commit()
    return response
