"""The suppression list: hashes of addresses that no send or import may reach."""

from __future__ import annotations

import hashlib

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, select

from digest.models import Suppression, utcnow


def email_hash(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


def suppress(session: Session, email: str, reason: str) -> None:
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.exec(insert(Suppression).values(email_hash=email_hash(email), reason=reason, created_at=utcnow())
                 .on_conflict_do_nothing(index_elements=["email_hash"]))


def is_suppressed(session: Session, email: str) -> bool:
    return session.exec(
        select(Suppression.id).where(Suppression.email_hash == email_hash(email))
    ).first() is not None
