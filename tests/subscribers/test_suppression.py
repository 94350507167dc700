"""The suppression list: reasons ordered by strength, lifts, and the audit of both, on both databases."""

import pytest
from sqlmodel import select

from digest.models import Suppression, SuppressionEvent
from digest.subscribers.suppression import (
    email_hash, lift, lift_self_service, suppress, suppression_reason,
)

# (stored, then suppressed again with) -> the reason that stays
ORDER = [
    ("unsubscribed", "complaint", "complaint"),
    ("complaint", "unsubscribed", "complaint"),
    ("bounce", "complaint", "complaint"),
    ("complaint", "bounce", "complaint"),
    ("unsubscribed", "bounce", "bounce"),
    ("bounce", "erased", "bounce"),
    ("erased", "unsubscribed", "erased"),      # equal strength: the first stays
    ("unsubscribed", "erased", "unsubscribed"),
    ("soft-bounce", "unsubscribed", "unsubscribed"),
    ("erased", "soft-bounce", "erased"),
    ("soft-bounce", "bounce", "bounce"),
]


def events(session, email):
    return [(e.action, e.reason, e.actor, e.note) for e in session.exec(
        select(SuppressionEvent).where(SuppressionEvent.email_hash == email_hash(email))
        .order_by(SuppressionEvent.id)).all()]


def test_a_stronger_reason_replaces_a_weaker_one_and_never_the_reverse(session):
    for number, (first, second, kept) in enumerate(ORDER):
        email = f"person{number}@example.org"
        assert suppress(session, email, first)
        assert suppress(session, email, second) == (kept != first)
        session.commit()
        assert suppression_reason(session, email) == kept, (first, second)
    assert len(session.exec(select(Suppression)).all()) == len(ORDER)


def test_every_suppress_and_lift_is_recorded_with_only_the_hash(session):
    suppress(session, "Ann@Example.org", "unsubscribed")
    suppress(session, "ann@example.org", "complaint", actor="kim", note="ticket 12")
    suppress(session, "ann@example.org", "bounce")                       # weaker: kept complaint
    lift_self_service(session, "ann@example.org")                        # not the person's to lift
    assert lift(session, "ann@example.org", actor="lee", note="asked to come back") == "complaint"
    assert lift(session, "ann@example.org", actor="lee") is None         # nothing left to lift
    session.commit()
    assert events(session, "ann@example.org") == [
        ("suppress", "unsubscribed", "system", None),
        ("suppress", "complaint", "kim", "ticket 12"),
        ("suppress", "bounce", "system", None),
        ("lift", "complaint", "lee", "asked to come back"),
    ]
    stored = session.exec(select(SuppressionEvent.email_hash)).all()
    assert set(stored) == {email_hash("ann@example.org")}


def test_the_person_lifts_only_their_own_choice(session):
    suppress(session, "bo@example.org", "erased")
    lift_self_service(session, "bo@example.org")
    session.commit()
    assert suppression_reason(session, "bo@example.org") is None
    assert events(session, "bo@example.org")[-1] == (
        "lift", "erased", "subscriber", "opted in again through a signed link")


def test_an_unknown_reason_is_refused(session):
    with pytest.raises(ValueError, match="unknown suppression reason 'spam'"):
        suppress(session, "cy@example.org", "spam")
    assert events(session, "cy@example.org") == []
