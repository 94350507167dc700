"""Staff accounts and what each role may do. Passwords are argon2-hashed; API tokens and
session tokens are random and stored as SHA-256 hashes: the plain value is handed out once
(to the script's owner, in the browser's cookie) and never kept."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import delete
from sqlmodel import Session, select

from digest.models import ApiToken, StaffSession, StaffUser, utcnow

MIN_PASSWORD_LENGTH = 12
_hasher = PasswordHasher()


@cache
def dummy_hash() -> str:
    """Verifying against a dummy hash when the user does not exist keeps the response time
    the same, so a login form does not reveal which staff addresses exist. Hashed on first
    use rather than at import, which every `digest` command would pay for."""
    return _hasher.hash(secrets.token_hex(16))


class Role(StrEnum):
    EDITOR = "editor"
    OPS = "ops"
    ADMIN = "admin"


class Permission(StrEnum):
    EDIT = "edit"        # shape drafts, approve, send a test copy to oneself
    OPERATE = "operate"  # start, pause, resume, cancel sends; sources; subscribers
    ADMIN = "admin"      # staff accounts


GRANTS = {
    Role.EDITOR: {Permission.EDIT},
    Role.OPS: {Permission.OPERATE},
    Role.ADMIN: {Permission.EDIT, Permission.OPERATE, Permission.ADMIN},
}


class AccountError(Exception):
    """Bad account input; the message names the field."""


def can(user: StaffUser, permission: Permission) -> bool:
    return user.active and permission in GRANTS.get(Role(user.role), set())


def add_user(session: Session, *, email: str, password: str, role: str) -> StaffUser:
    try:
        email = validate_email(email, check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise AccountError(f"email: {exc}") from None
    if role not in Role.__members__.values():
        raise AccountError(f"role: must be one of {', '.join(Role)}")
    if session.exec(select(StaffUser).where(StaffUser.email == email)).one_or_none():
        raise AccountError(f"email: {email} already has an account")
    user = StaffUser(email=email, password_hash=_password_hash(password), role=role)
    session.add(user)
    session.flush()
    return user


def _password_hash(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"password: at least {MIN_PASSWORD_LENGTH} characters")
    return _hasher.hash(password)


def set_password(session: Session, user: StaffUser, password: str) -> None:
    """A new password for `user`; every session of the account ends (whoever knew the old
    password may have signed in with it)."""
    user.password_hash = _password_hash(password)
    session.execute(delete(StaffSession).where(StaffSession.user_id == user.id))
    session.flush()


def authenticate(session: Session, email: str, password: str) -> StaffUser | None:
    user = session.exec(select(StaffUser).where(StaffUser.email == email.strip().lower())).one_or_none()
    try:
        _hasher.verify(user.password_hash if user else dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or not user.active:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return user


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


_DURATION = re.compile(r"(\d+)([hdw])")
_UNITS = {"h": "hours", "d": "days", "w": "weeks"}


def parse_expiry(text: str, now: datetime | None = None) -> datetime:
    """When a token given `--expires TEXT` stops working: a duration from now (`12h`,
    `30d`, `8w`) or a date (`2027-01-31`: from midnight UTC that day) or an ISO time."""
    now = now or utcnow()
    text = text.strip()
    if match := _DURATION.fullmatch(text):
        when = now + timedelta(**{_UNITS[match[2]]: int(match[1])})
    else:
        try:
            when = datetime.fromisoformat(text)
        except ValueError:
            raise AccountError(f"expires: {text!r} is neither a duration (12h, 30d, 8w) "
                               "nor a date (YYYY-MM-DD)") from None
        when = when if when.tzinfo else when.replace(tzinfo=UTC)
    if when <= now:
        raise AccountError(f"expires: {text!r} is not in the future")
    return when


def create_api_token(session: Session, user: StaffUser, name: str,
                     expires_at: datetime | None = None) -> str:
    """A new token for `user`; the plain value is returned once and never stored."""
    name = name.strip()
    if not name or len(name) > 100:
        raise AccountError("name: 1 to 100 characters")
    token = "dgt_" + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, name=name, token_hash=_token_hash(token), expires_at=expires_at))
    session.flush()
    return token


def token_state(row: ApiToken, now: datetime | None = None) -> str:
    if row.revoked_at is not None:
        return "revoked"
    if row.expires_at is not None and row.expires_at <= (now or utcnow()):
        return "expired"
    return "active"


def list_api_tokens(session: Session, user: StaffUser | None = None) -> list[tuple[ApiToken, str]]:
    """Tokens (of `user`, else everyone's) with their owner's address, newest first."""
    query = select(ApiToken, StaffUser.email).join(StaffUser, StaffUser.id == ApiToken.user_id)
    if user is not None:
        query = query.where(ApiToken.user_id == user.id)
    return list(session.exec(query.order_by(ApiToken.created_at.desc(), ApiToken.id.desc())).all())


def find_api_token(session: Session, id_or_name: str, owner: StaffUser | None = None) -> ApiToken:
    """The token with this id, or the one token not yet revoked with this name (of `owner`
    if given): a name that several tokens share is refused rather than guessed."""
    query = select(ApiToken)
    if owner is not None:
        query = query.where(ApiToken.user_id == owner.id)
    if id_or_name.isdigit():
        row = session.exec(query.where(ApiToken.id == int(id_or_name))).one_or_none()
        if row is None:
            raise AccountError(f"token: no token {id_or_name}")
        return row
    rows = session.exec(query.where(ApiToken.name == id_or_name, ApiToken.revoked_at.is_(None))).all()
    if not rows:
        raise AccountError(f"token: no token named {id_or_name!r} that is not revoked")
    if len(rows) > 1:
        raise AccountError(f"token: {len(rows)} tokens are named {id_or_name!r} "
                           f"(ids {', '.join(str(r.id) for r in rows)}): give the id")
    return rows[0]


def revoke_api_token(row: ApiToken) -> bool:
    """Revoke `row` from now on; False if it was revoked already."""
    if row.revoked_at is not None:
        return False
    row.revoked_at = utcnow()
    return True


def user_for_token(session: Session, token: str) -> StaffUser | None:
    row = session.exec(select(ApiToken).where(ApiToken.token_hash == _token_hash(token))).one_or_none()
    if row is None or token_state(row) != "active":
        return None
    user = session.get(StaffUser, row.user_id)
    if user is None or not user.active:
        return None
    row.last_used_at = utcnow()
    return user


def api_token_refusal(session: Session, token: str) -> str:
    """Why `token` gets no access, told to whoever holds it (it names only the token itself)."""
    row = session.exec(select(ApiToken).where(ApiToken.token_hash == _token_hash(token))).one_or_none()
    if row is None:
        return "This API token is not known."
    if row.revoked_at is not None:
        return f"This API token ({row.name}) was revoked at {row.revoked_at:%Y-%m-%d %H:%M} UTC."
    if token_state(row) == "expired":
        return f"This API token ({row.name}) expired at {row.expires_at:%Y-%m-%d %H:%M} UTC."
    return "This API token's account is disabled."


def open_session(session: Session, user: StaffUser, *, hours: int) -> str:
    """A new session for `user`, lasting `hours`; returns its token, for the cookie only.
    Expired sessions of anyone are swept here, so the table stays the size of who is in."""
    now = utcnow()
    session.execute(delete(StaffSession).where(StaffSession.expires_at <= now))
    token = secrets.token_urlsafe(32)
    session.add(StaffSession(user_id=user.id, token_hash=_token_hash(token),
                             expires_at=now + timedelta(hours=hours)))
    session.flush()
    return token


def user_for_session(session: Session, token: str) -> StaffUser | None:
    row = session.exec(select(StaffSession).where(StaffSession.token_hash == _token_hash(token))).one_or_none()
    if row is None or row.expires_at <= utcnow():
        return None
    user = session.get(StaffUser, row.user_id)
    return user if user is not None and user.active else None


def close_session(session: Session, token: str) -> None:
    session.execute(delete(StaffSession).where(StaffSession.token_hash == _token_hash(token)))
    session.flush()
