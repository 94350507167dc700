"""Why a send is not moving, said where ops look (`digest send status`, the console, the
API): "relay unreachable since 14:05 UTC: ..." or "the relay refuses our mail: ...".

Kept on the edition with the time it started; the first message the relay accepts again
clears it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, update
from sqlmodel import Session

from digest.mail.errors import CHECK_RELAY
from digest.models import Edition, utcnow

E = Edition.__table__

UNREACHABLE = "relay unreachable"
REFUSED = "the relay refuses our mail"
BOUNCING = "bounces in a row, paused"


def note(session: Session, edition_id: int, kind: str, error: str) -> None:
    error = error.removeprefix(f"{kind}: ")
    session.execute(update(E).where(E.c.id == edition_id).values(
        send_problem=f"{kind}: {error}",
        send_problem_since=func.coalesce(E.c.send_problem_since, utcnow())))
    session.commit()


def clear(session: Session, edition_id: int) -> bool:
    """Forget the problem; True if there was one."""
    cleared = session.execute(update(E).where(E.c.id == edition_id, E.c.send_problem.is_not(None))
                              .values(send_problem=None, send_problem_since=None)).rowcount
    session.commit()
    return bool(cleared)


def describe(problem: str | None, since: datetime | None) -> str | None:
    """The sentence for ops: the kind, since when (HH:MM UTC), the error."""
    if not problem:
        return None
    kind, _, error = problem.partition(": ")
    when = f" since {since:%H:%M} UTC" if since else ""
    hint = f" ({CHECK_RELAY})" if kind == UNREACHABLE else ""
    return f"{kind}{when}: {error}{hint}"
