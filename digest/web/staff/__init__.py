"""The staff console (editors and ops) and the JSON API, installed on the web app."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response

from digest import resource
from digest.staff import accounts
from digest.web.staff import api, editor, lists, ops, session
from digest.web.staff.auth import LoginLimits, LoginRequired

CONSOLE_JS = (resource("templates") / "web" / "staff" / "console.js").read_text(encoding="utf-8")


def install(app: FastAPI) -> None:
    app.state.login_limits = LoginLimits(app.state.settings)
    accounts.dummy_hash()  # now, so that the first login of an unknown address is not slower
    for area in (session, editor, lists, ops, api):
        app.include_router(area.router)

    @app.exception_handler(LoginRequired)
    async def to_login(request: Request, exc: LoginRequired):
        return RedirectResponse(f"/staff/login?next={quote(exc.next_path)}", status_code=303)

    @app.get("/staff/console.js", include_in_schema=False)
    def console_js() -> Response:
        # The console's only script (progress polling): a file of ours, so the pages' CSP
        # can allow script-src 'self' and nothing else.
        return Response(CONSOLE_JS, media_type="text/javascript",
                        headers={"Cache-Control": "max-age=300"})

    @app.middleware("http")
    async def console_policy(request: Request, call_next):
        response = await call_next(request)
        if request.url.path.startswith("/staff/") and "content-security-policy" not in response.headers:
            response.headers["Content-Security-Policy"] = (
                "default-src 'self'; img-src * data:; style-src 'self' 'unsafe-inline'; "
                "script-src 'self'; form-action 'self'; frame-src 'self'; frame-ancestors 'none'")
        return response
