"""The suppression list: hashes of addresses that no send or import may reach.

Reasons: ``bounce`` and ``complaint`` are for good. ``unsubscribed`` (from every list) and
``erased`` (the person deleted their data) were the person's own choice, so the person,
and only the person, can lift them again by confirming a new subscription through a
signed link (see :data:`SELF_SERVICE`).
"""

from __future__ import annotations

import hashlib

from sqlalchemy import delete
from sqlmodel import Session, select

from digest.models import Suppression, utcnow
from digest.subscribers.bulk import among, upsert

#: Reasons the person themself may lift by opting in again through a signed link.
SELF_SERVICE = frozenset({"unsubscribed", "erased"})


def email_hash(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


def suppress(session: Session, email: str, reason: str) -> None:
    session.exec(upsert(session)(Suppression)
                 .values(email_hash=email_hash(email), reason=reason, created_at=utcnow())
                 .on_conflict_do_nothing(index_elements=["email_hash"]))


def is_suppressed(session: Session, email: str) -> bool:
    return suppression_reason(session, email) is not None


def suppression_reason(session: Session, email: str) -> str | None:
    return session.exec(
        select(Suppression.reason).where(Suppression.email_hash == email_hash(email))
    ).first()


def lift_self_service(session: Session, email: str) -> None:
    """Drop a suppression the person made themself (never a bounce or a complaint)."""
    session.exec(delete(Suppression).where(Suppression.email_hash == email_hash(email),
                                           Suppression.reason.in_(SELF_SERVICE)))


def suppressed_among(session: Session, hashes: list[str], chunk: int = 1000) -> set[str]:
    """Which of these address hashes are suppressed, asked in bounded chunks."""
    found: set[str] = set()
    for start in range(0, len(hashes), chunk):
        found.update(session.exec(select(Suppression.email_hash).where(
            among(session, Suppression.email_hash, hashes[start:start + chunk]))).all())
    return found
