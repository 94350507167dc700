"""Who is asking: a staff session cookie (browser) or an API token (scripts).

The session cookie holds only a random token naming a row of the staff sessions table
(HttpOnly, SameSite=Strict, `__Host-` on https): signing out deletes the row, a new password
deletes all of the account's, so a kept copy of the cookie is worth nothing afterwards. The
session's CSRF token is derived from it (digest.web.csrf.session_token).

Failed sign-ins are limited without letting anyone lock an account: see LoginLimits.
"""

from __future__ import annotations

import secrets

from fastapi import Depends, HTTPException, Request, Response, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from itsdangerous import BadSignature, URLSafeTimedSerializer
from limits import parse, storage, strategies
from sqlmodel import Session

from digest.models import StaffUser
from digest.settings import Settings
from digest.staff.accounts import (
    Permission, api_token_refusal, can, close_session, open_session, user_for_session, user_for_token,
)
from digest.web import csrf
from digest.web.deps import cookie_name, db_session, https

COOKIE = "digest_staff"
DEVICE_COOKIE = "digest_device"
# How long a browser stays known to an account after a sign-in there (see LoginLimits).
DEVICE_DAYS = 180


class LoginRequired(Exception):
    """A browser without a session: sent to the login page (handled in staff.install)."""

    def __init__(self, next_path: str):
        self.next_path = next_path


def _cookie(request: Request, name: str) -> str | None:
    return request.cookies.get(cookie_name(name, secure=https(request)))


def _set_cookie(request: Request, response: Response, name: str, value: str, max_age: int) -> None:
    response.set_cookie(cookie_name(name, secure=https(request)), value, max_age=max_age, httponly=True,
                        samesite="strict", secure=https(request), path="/")


def start_session(request: Request, response: Response, session: Session, user: StaffUser) -> None:
    """A new session for `user`; the one this browser had before, if any, ends."""
    previous = _cookie(request, COOKIE)
    if previous:
        close_session(session, previous)
    hours = request.app.state.settings.staff_session_hours
    _set_cookie(request, response, COOKIE, open_session(session, user, hours=hours), hours * 3600)


def end_session(request: Request, response: Response, session: Session) -> None:
    token = _cookie(request, COOKIE)
    if token:
        close_session(session, token)
    response.delete_cookie(cookie_name(COOKIE, secure=https(request)), path="/", secure=https(request),
                           httponly=True, samesite="strict")


def csrf_token(request: Request) -> str | None:
    """The CSRF token of the request's session (None without a session cookie)."""
    token = _cookie(request, COOKIE)
    return csrf.session_token(request.app.state.settings.secret_key, token) if token else None


def _from_cookie(request: Request, session: Session) -> StaffUser | None:
    token = _cookie(request, COOKIE)
    return user_for_session(session, token) if token else None


# Declared as a security dependency so that the OpenAPI description names the scheme on
# every operation and the docs page offers "Authorize"; absent, a browser's cookie is tried.
api_token = HTTPBearer(scheme_name="apiToken", bearerFormat="dgt_...", auto_error=False,
                       description="A staff API token, made with `digest users token EMAIL --name NAME`.")


def _from_bearer(credentials: HTTPAuthorizationCredentials | None, session: Session) -> StaffUser | None:
    if credentials is None:
        return None
    user = user_for_token(session, credentials.credentials.strip())
    session.commit()  # last_used_at
    return user


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or "text/html" not in request.headers.get("accept", "")


def require(permission: Permission | None = None):
    """A dependency: the signed-in staff user, who must hold `permission` (if given).

    No credentials: 401 for API clients, the login page for browsers. Wrong role: 403.
    Cookie-authenticated writes to the JSON API must carry the CSRF header.
    """

    def dependency(request: Request, session: Session = Depends(db_session),
                   credentials: HTTPAuthorizationCredentials | None = Security(api_token)) -> StaffUser:
        user = _from_bearer(credentials, session)
        via_cookie = user is None
        if via_cookie:
            user = _from_cookie(request, session)
        if user is None:
            if _wants_json(request):
                why = (api_token_refusal(session, credentials.credentials.strip()) if credentials
                       else "Sign in, or send an API token as 'Authorization: Bearer ...'.")
                raise HTTPException(401, why, headers={"WWW-Authenticate": "Bearer"})
            raise LoginRequired(request.url.path)
        if permission is not None and not can(user, permission):
            raise HTTPException(403, f"Your role ({user.role}) may not do this.")
        if via_cookie and request.method not in ("GET", "HEAD") and request.url.path.startswith("/api/"):
            csrf.matches(csrf_token(request), request.headers.get("x-csrf-token"))
        request.state.staff = user
        return user

    return dependency


def _devices(request: Request) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(request.app.state.settings.secret_key, salt="digest.staff-device")


def known_device(request: Request, email: str) -> str | None:
    """The id of this browser if `email` signed in here before (a cookie signed by us)."""
    value = _cookie(request, DEVICE_COOKIE)
    if not value:
        return None
    try:
        data = _devices(request).loads(value, max_age=DEVICE_DAYS * 86400)
    except BadSignature:  # includes SignatureExpired
        return None
    return data.get("d") if data.get("e") == email else None


def remember_device(request: Request, response: Response, email: str) -> None:
    """After a sign-in: this browser is known to `email` from now on."""
    device = known_device(request, email) or secrets.token_urlsafe(16)
    _set_cookie(request, response, DEVICE_COOKIE, _devices(request).dumps({"e": email, "d": device}),
                DEVICE_DAYS * 86400)


class LoginLimits:
    """Failed sign-ins allowed (Redis when configured), so that guessing is slow for an
    attacker while no attacker can lock the real person out.

    A browser that signed in to the account before (known_device) has a count of its own
    for that account and nothing else applies to it: failures from elsewhere never stop it.
    Any other client is counted per account and IP, per IP whatever the account (one address
    trying many), and per account over all such clients (a slow guess from many addresses,
    which only makes new browsers wait).
    """

    def __init__(self, settings: Settings) -> None:
        self.limiter = strategies.MovingWindowRateLimiter(storage.storage_from_string(settings.rate_limit_storage))
        self.per_client = parse(settings.staff_login_limit)
        self.per_ip = parse(settings.staff_login_limit_per_ip)
        self.per_account = parse(settings.staff_login_limit_per_account)
        self.namespace = f"digest-login:{settings.celery_queue}"

    def _counts(self, email: str, ip: str, device: str | None):
        if device:
            return [(self.per_client, "device", email, device)]
        return [(self.per_client, "client", email, ip), (self.per_ip, "ip", ip),
                (self.per_account, "account", email)]

    def blocked(self, email: str, ip: str, device: str | None) -> bool:
        return not all(self.limiter.test(limit, self.namespace, *keys)
                       for limit, *keys in self._counts(email, ip, device))

    def failed(self, email: str, ip: str, device: str | None) -> None:
        for limit, *keys in self._counts(email, ip, device):
            self.limiter.hit(limit, self.namespace, *keys)
