"""Who is asking: a staff session cookie (browser) or an API token (scripts).

The session cookie is signed and timestamped (itsdangerous), HttpOnly and SameSite=Strict;
it carries the user id and a fingerprint of the password hash, so changing a password ends
every session. Failed logins are limited per address and per client IP.
"""

from __future__ import annotations

from fastapi import Depends, HTTPException, Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer
from limits import parse, storage, strategies
from sqlmodel import Session

from digest.models import StaffUser
from digest.settings import Settings
from digest.staff.accounts import Permission, can, user_for_token
from digest.web import csrf
from digest.web.deps import db_session

COOKIE = "digest_staff"


class LoginRequired(Exception):
    """A browser without a session: sent to the login page (handled in staff.install)."""

    def __init__(self, next_path: str):
        self.next_path = next_path


def _serializer(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.secret_key, salt="digest.staff-session")


def _fingerprint(user: StaffUser) -> str:
    return user.password_hash[-16:]


def start_session(response: Response, settings: Settings, user: StaffUser) -> None:
    value = _serializer(settings).dumps({"u": user.id, "f": _fingerprint(user)})
    response.set_cookie(COOKIE, value, max_age=settings.staff_session_hours * 3600, httponly=True,
                        samesite="strict", secure=settings.public_url.startswith("https"), path="/")


def end_session(response: Response) -> None:
    response.delete_cookie(COOKIE, path="/")


def _from_cookie(request: Request, session: Session, settings: Settings) -> StaffUser | None:
    value = request.cookies.get(COOKIE)
    if not value:
        return None
    try:
        data = _serializer(settings).loads(value, max_age=settings.staff_session_hours * 3600)
    except BadSignature:  # includes SignatureExpired
        return None
    user = session.get(StaffUser, data.get("u"))
    if user is None or not user.active or data.get("f") != _fingerprint(user):
        return None
    return user


def _from_bearer(request: Request, session: Session) -> StaffUser | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        return None
    user = user_for_token(session, token.strip())
    session.commit()  # last_used_at
    return user


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or "text/html" not in request.headers.get("accept", "")


def require(permission: Permission | None = None):
    """A dependency: the signed-in staff user, who must hold `permission` (if given).

    No credentials: 401 for API clients, the login page for browsers. Wrong role: 403.
    Cookie-authenticated writes to the JSON API must carry the CSRF header.
    """

    def dependency(request: Request, session: Session = Depends(db_session)) -> StaffUser:
        settings = request.app.state.settings
        user = _from_bearer(request, session)
        via_cookie = user is None
        if via_cookie:
            user = _from_cookie(request, session, settings)
        if user is None:
            if _wants_json(request):
                raise HTTPException(401, "Sign in, or send an API token as 'Authorization: Bearer ...'.",
                                    headers={"WWW-Authenticate": "Bearer"})
            raise LoginRequired(request.url.path)
        if permission is not None and not can(user, permission):
            raise HTTPException(403, f"Your role ({user.role}) may not do this.")
        if via_cookie and request.method not in ("GET", "HEAD") and request.url.path.startswith("/api/"):
            csrf.check(request, request.headers.get("x-csrf-token"))
        request.state.staff = user
        return user

    return dependency


class LoginLimits:
    """Failed sign-ins allowed per address and per IP (Redis when configured)."""

    def __init__(self, settings: Settings) -> None:
        self.limiter = strategies.MovingWindowRateLimiter(storage.storage_from_string(settings.rate_limit_storage))
        self.limit = parse(settings.staff_login_limit)
        self.namespace = f"digest-login:{settings.celery_queue}"

    def blocked(self, email: str, ip: str) -> bool:
        return not (self.limiter.test(self.limit, self.namespace, "email", email)
                    and self.limiter.test(self.limit, self.namespace, "ip", ip))

    def failed(self, email: str, ip: str) -> None:
        self.limiter.hit(self.limit, self.namespace, "email", email)
        self.limiter.hit(self.limit, self.namespace, "ip", ip)
