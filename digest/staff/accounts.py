"""Staff accounts and what each role may do. Passwords are argon2-hashed; API tokens and
session tokens are random and stored as SHA-256 hashes: the plain value is handed out once
(to the script's owner, in the browser's cookie) and never kept."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
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


def create_api_token(session: Session, user: StaffUser, name: str) -> str:
    """A new token for `user`; the plain value is returned once and never stored."""
    token = "dgt_" + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, name=name[:100], token_hash=_token_hash(token)))
    session.flush()
    return token


def user_for_token(session: Session, token: str) -> StaffUser | None:
    row = session.exec(select(ApiToken).where(ApiToken.token_hash == _token_hash(token))).one_or_none()
    if row is None:
        return None
    user = session.get(StaffUser, row.user_id)
    if user is None or not user.active:
        return None
    row.last_used_at = utcnow()
    return user


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
