"""What the console's pages share: forms with CSRF, flash messages, redirects."""

from __future__ import annotations

from urllib.parse import quote, unquote

from fastapi import Request
from fastapi.responses import RedirectResponse
from starlette.datastructures import FormData

from digest.web import csrf
from digest.web.deps import page

FLASH = "digest_flash"


def staff_page(request: Request, name: str, status_code: int = 200, **context):
    """A console page; every form on it gets the CSRF token."""
    token = csrf.form_token(request)
    flash = request.cookies.get(FLASH, "")
    response = page(request, f"staff/{name}", status_code, user=getattr(request.state, "staff", None),
                    csrf_field=csrf.FIELD, csrf_token=token,
                    flash_kind=flash[:1], flash=unquote(flash[2:]), **context)
    csrf.set_cookie(response, token, secure=_secure(request))
    if flash:
        response.delete_cookie(FLASH, path="/staff")
    return response


async def checked_form(request: Request) -> FormData:
    """A dependency: the posted form, once its CSRF token is checked.

    Only reading the body is async. The handlers taking it are plain `def`s, which FastAPI
    runs in its threadpool: they wait on the database (an import of 60k rows takes
    seconds), and on the event loop that wait would stall every other visitor."""
    form = await request.form()
    csrf.check(request, form.get(csrf.FIELD))
    return form


def back(request: Request, path: str, *, notice: str = "", error: str = "") -> RedirectResponse:
    """Post/redirect/get, carrying one message to the next page in a short-lived cookie."""
    response = RedirectResponse(path, status_code=303)
    if notice or error:
        kind = "e" if error else "n"
        response.set_cookie(FLASH, f"{kind}:{quote(error or notice)}", max_age=60, httponly=True,
                            samesite="strict", secure=_secure(request), path="/staff")
    return response


def _secure(request: Request) -> bool:
    return request.app.state.settings.public_url.startswith("https")
