"""The daily budget of confirmation mails per pending subscription.

A slot is taken when a confirmation is queued, in the request, so that a flood of
sign-ups for one address queues only a few. A confirmation that is never delivered (the
queue was full, or the relay kept failing or refused it) gives its slot back: an outage
must not leave the person unable to get one later that day.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import case, or_, update
from sqlmodel import Session

from digest.models import Subscription, utcnow

S = Subscription.__table__


def take_confirmation_slot(session: Session, subscription_id: int, per_day: int) -> bool:
    """Count one confirmation in the subscription's 24-hour window, if the window has room.

    One conditional UPDATE, so concurrent sign-ups cannot both take the last slot."""
    now = utcnow()
    window_over = or_(S.c.confirmation_window_at.is_(None),
                      S.c.confirmation_window_at < now - timedelta(days=1))
    result = session.execute(
        update(S)
        .where(S.c.id == subscription_id,
               or_(window_over, S.c.confirmations_sent < per_day))
        .values(confirmations_sent=case((window_over, 1), else_=S.c.confirmations_sent + 1),
                confirmation_window_at=case((window_over, now),
                                            else_=S.c.confirmation_window_at)))
    return result.rowcount == 1


def give_back_confirmation_slot(session: Session, subscriber_id: int, list_id: int) -> None:
    """Uncount a confirmation that was never delivered."""
    session.execute(update(S).where(S.c.subscriber_id == subscriber_id, S.c.list_id == list_id,
                                    S.c.confirmations_sent > 0)
                    .values(confirmations_sent=S.c.confirmations_sent - 1))
