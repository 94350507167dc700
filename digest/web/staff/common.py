"""What the console's pages share: forms with CSRF, flash messages, redirects."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote, unquote

from fastapi import Request
from fastapi.responses import RedirectResponse
from starlette.datastructures import FormData

from digest.web import csrf
from digest.web.deps import https, page
from digest.web.staff.auth import csrf_token

FLASH = "digest_flash"


def staff_page(request: Request, name: str, status_code: int = 200, **context):
    """A console page; every form on it gets the CSRF token: the session's once signed in,
    else (the sign-in page) a double-submit cookie's."""
    user = getattr(request.state, "staff", None)
    session_token = csrf_token(request) if user else None
    token = session_token or csrf.form_token(request)
    flash = request.cookies.get(FLASH, "")
    response = page(request, f"staff/{name}", status_code, user=user,
                    csrf_field=csrf.FIELD, csrf_token=token,
                    flash_kind=flash[:1], flash=unquote(flash[2:]), **context)
    if session_token is None:
        csrf.set_cookie(response, token, secure=https(request))
    if flash:
        response.delete_cookie(FLASH, path="/staff")
    return response


def form_checked_against(expected_token: Callable[[Request], str | None]):
    """A dependency: the posted form, once its CSRF field matches `expected_token(request)`.

    Only reading the body is async. The handlers taking it are plain `def`s, which FastAPI
    runs in its threadpool: they wait on the database (an import of 60k rows takes
    seconds), and on the event loop that wait would stall every other visitor."""

    async def checked(request: Request) -> FormData:
        form = await request.form()
        csrf.matches(expected_token(request), form.get(csrf.FIELD))
        return form

    return checked


# The forms of a signed-in session.
checked_form = form_checked_against(csrf_token)


def back(request: Request, path: str, *, notice: str = "", error: str = "") -> RedirectResponse:
    """Post/redirect/get, carrying one message to the next page in a short-lived cookie."""
    response = RedirectResponse(path, status_code=303)
    if notice or error:
        kind = "e" if error else "n"
        response.set_cookie(FLASH, f"{kind}:{quote(error or notice)}", max_age=60, httponly=True,
                            samesite="strict", secure=https(request), path="/staff")
    return response
