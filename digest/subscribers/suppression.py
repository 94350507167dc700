"""The suppression list: hashes of addresses that no send or import may reach, and the
audit of every change made to it.

Reasons have a strength (:data:`STRENGTH`): a stronger reason replaces a weaker one and a
weaker one never replaces a stronger, so a complaint after an unsubscribe sticks, and an
unsubscribe after a complaint does not soften it. ``bounce`` and ``complaint`` are for
good (only staff lift them, with :func:`lift`). ``unsubscribed`` (from every list) and
``erased`` (the person deleted their data) were the person's own choice, so the person can
lift them again by confirming a new subscription through a signed link
(:data:`SELF_SERVICE`).

Every suppress and every lift is recorded in ``SuppressionEvent`` (hash, action, reason,
actor, note, time), whether or not it changed the stored reason.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import case, delete, insert
from sqlmodel import Session, select

from digest.models import Suppression, SuppressionAction, SuppressionEvent, utcnow
from digest.subscribers.bulk import among, upsert

#: How firmly each reason keeps an address out; a reason replaces only a weaker one.
#: ``soft-bounce`` is for repeated temporary failures, below everything the person or
#: their mailbox said for good.
STRENGTH = {"complaint": 4, "bounce": 3, "unsubscribed": 2, "erased": 2, "soft-bounce": 1}

#: Reasons the person themself may lift by opting in again through a signed link.
SELF_SERVICE = frozenset({"unsubscribed", "erased"})

#: Actors of the events the service records on its own.
SYSTEM = "system"
SUBSCRIBER = "subscriber"

_TABLE = Suppression.__table__


def email_hash(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


def _strength(reason_column):
    return case(STRENGTH, value=reason_column, else_=0)


def suppress(session: Session, email: str, reason: str, *, actor: str = SYSTEM,
             note: str | None = None) -> bool:
    """Suppress the address for `reason` unless a reason at least as strong is stored.

    One upsert, so concurrent calls settle on the strongest reason. True when the stored
    reason changed. Raises ValueError for a reason not in :data:`STRENGTH`. No commit."""
    if reason not in STRENGTH:
        raise ValueError(f"unknown suppression reason {reason!r}: one of {', '.join(STRENGTH)}")
    hashed = email_hash(email)
    row = upsert(session)(_TABLE).values(email_hash=hashed, reason=reason, created_at=utcnow())
    changed = session.execute(row.on_conflict_do_update(
        index_elements=["email_hash"],
        set_={"reason": row.excluded.reason, "created_at": row.excluded.created_at},
        where=_strength(row.excluded.reason) > _strength(_TABLE.c.reason),
    ).returning(_TABLE.c.id)).first() is not None
    _record(session, hashed, SuppressionAction.SUPPRESS, reason, actor, note)
    return changed


def lift(session: Session, email: str, *, actor: str, note: str | None = None,
         reasons: frozenset[str] | None = None) -> str | None:
    """Take the address off the suppression list (only if its reason is among `reasons`,
    when given). Returns the reason lifted, or None if there was nothing to lift. No commit."""
    hashed = email_hash(email)
    statement = delete(_TABLE).where(_TABLE.c.email_hash == hashed)
    if reasons is not None:
        statement = statement.where(_TABLE.c.reason.in_(reasons))
    lifted = session.execute(statement.returning(_TABLE.c.reason)).scalar()
    if lifted is not None:
        _record(session, hashed, SuppressionAction.LIFT, lifted, actor, note)
    return lifted


def lift_self_service(session: Session, email: str) -> None:
    """Drop a suppression the person made themself (never a bounce or a complaint)."""
    lift(session, email, actor=SUBSCRIBER, note="opted in again through a signed link",
         reasons=SELF_SERVICE)


def _record(session: Session, hashed: str, action: SuppressionAction, reason: str,
            actor: str, note: str | None) -> None:
    session.execute(insert(SuppressionEvent.__table__).values(
        email_hash=hashed, action=action, reason=reason, actor=actor, note=note,
        created_at=utcnow()))


def is_suppressed(session: Session, email: str) -> bool:
    return suppression_reason(session, email) is not None


def suppression_reason(session: Session, email: str) -> str | None:
    return session.exec(
        select(Suppression.reason).where(Suppression.email_hash == email_hash(email))
    ).first()


def refuses_opt_in(session: Session, email: str) -> bool:
    """Whether the address is suppressed for a reason its owner cannot lift by signing up."""
    reason = suppression_reason(session, email)
    return reason is not None and reason not in SELF_SERVICE


def suppressed_among(session: Session, hashes: list[str], chunk: int = 1000) -> set[str]:
    """Which of these address hashes are suppressed, asked in bounded chunks."""
    found: set[str] = set()
    for start in range(0, len(hashes), chunk):
        found.update(session.exec(select(Suppression.email_hash).where(
            among(session, Suppression.email_hash, hashes[start:start + chunk]))).all())
    return found
