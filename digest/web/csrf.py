"""CSRF protection for forms, by double submit: a random value in a SameSite=Strict cookie
that the form must echo back. Stateless, so any number of web processes can check it.

Pages reached through a signed link (unsubscribe, preferences) need none: the token in
the URL is the authority and a third-party site cannot know it. Staff pages can use the
same helper alongside their own authentication.
"""

from __future__ import annotations

import secrets
from hmac import compare_digest

from fastapi import HTTPException, Request, Response

COOKIE = "digest_csrf"
FIELD = "csrf_token"


def form_token(request: Request) -> str:
    """The value to put in a form's hidden field (the visitor's cookie, or a new one)."""
    return request.cookies.get(COOKIE) or secrets.token_urlsafe(32)


def set_cookie(response: Response, token: str, *, secure: bool) -> None:
    response.set_cookie(COOKIE, token, httponly=True, samesite="strict", secure=secure, path="/")


def check(request: Request, submitted: str | None) -> None:
    cookie = request.cookies.get(COOKIE)
    if not cookie or not submitted or not compare_digest(cookie, submitted):
        raise HTTPException(403, "This form has expired. Reload the page and try again.")
