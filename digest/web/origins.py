"""The sites allowed to host a sign-up form (``DIGEST_SIGNUP_ORIGINS``): CORS for the JSON
sign-up, and the Origin check of the embeddable form's endpoint.

Starlette's CORSMiddleware applies to a whole app; installed as is, it would answer
preflights for the staff API and the console as well. :class:`SignUpCORS` hands it only
the JSON sign-up's path, so every other path keeps the browser's same-origin policy.
"""

from __future__ import annotations

import re

from fastapi import FastAPI, Request
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from digest.settings import Settings, origin_of

SIGNUP_API = re.compile(r"/api/lists/[^/]+/subscribe")


class SignUpCORS:
    """CORS (POST with a JSON body, no cookies) for the JSON sign-up path only."""

    def __init__(self, app: ASGIApp, origins: list[str]) -> None:
        self.app = app
        # No credentials: the sign-up needs no cookie, and a site that could send ours
        # along could act as the visitor.
        self.cors = CORSMiddleware(app, allow_origins=origins, allow_methods=["POST"],
                                   allow_headers=["Content-Type"], allow_credentials=False, max_age=600)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and SIGNUP_API.fullmatch(scope["path"]):
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)


def install(app: FastAPI, settings: Settings) -> None:
    """No origins configured, no CORS: a preflight then finds no route (405) and the
    browser never sends the sign-up."""
    if settings.signup_origins:
        app.add_middleware(SignUpCORS, origins=settings.signup_origins)


def sender_origin(request: Request) -> str | None:
    """The origin of the page a request came from: its Origin header, else its Referer's.
    Browsers send Origin with every cross-site POST; "null" (a sandboxed frame, a file)
    names no site."""
    origin = request.headers.get("origin")
    if origin and origin != "null":
        return origin_of(origin)
    referer = request.headers.get("referer")
    return origin_of(referer) if referer else None


def may_host_form(request: Request) -> bool:
    """Whether a form post may come from where it came from: from anywhere when no origins
    are configured, else only from those and this app's own pages."""
    settings: Settings = request.app.state.settings
    if not settings.signup_origins:
        return True
    origin = sender_origin(request)
    return origin is not None and origin in {*settings.signup_origins, origin_of(settings.public_url)}
