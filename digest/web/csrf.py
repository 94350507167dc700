"""CSRF protection for forms.

Before anyone signs in (the sign-up and sign-in forms), by double submit: a random value in
a SameSite=Strict cookie that the form must echo back. Stateless, so any number of web
processes can check it. On https the cookie is `__Host-` prefixed, so a page on a sibling
subdomain cannot plant a value of its choosing (cookie tossing) and post it along.

Inside a staff session, the token is bound to the session instead: an HMAC of the session's
secret token under the app's key, which nobody without both can make.

Pages reached through a signed link (unsubscribe, preferences) need none: the token in
the URL is the authority and a third-party site cannot know it.
"""

from __future__ import annotations

import hmac
import secrets

from fastapi import HTTPException, Request, Response

from digest.web.deps import cookie_name, https

COOKIE = "digest_csrf"
FIELD = "csrf_token"


def cookie_token(request: Request) -> str | None:
    """The visitor's double-submit cookie, if any."""
    return request.cookies.get(cookie_name(COOKIE, secure=https(request)))


def form_token(request: Request) -> str:
    """The value to put in a form's hidden field (the visitor's cookie, or a new one)."""
    return cookie_token(request) or secrets.token_urlsafe(32)


def set_cookie(response: Response, token: str, *, secure: bool) -> None:
    response.set_cookie(cookie_name(COOKIE, secure=secure), token, httponly=True, samesite="strict",
                        secure=secure, path="/")


def session_token(secret_key: str, session_secret: str) -> str:
    """The CSRF token of the session whose cookie holds `session_secret`."""
    return hmac.new(secret_key.encode(), b"digest.csrf:" + session_secret.encode(), "sha256").hexdigest()


def matches(expected: str | None, submitted: object) -> None:
    """Refuse (403) unless `submitted` is the `expected` token."""
    if not (expected and isinstance(submitted, str)
            and hmac.compare_digest(expected.encode(), submitted.encode())):
        raise HTTPException(403, "This form has expired. Reload the page and try again.")


def check(request: Request, submitted: object) -> None:
    """The double-submit check: the field echoes the visitor's cookie."""
    matches(cookie_token(request), submitted)
