"""The subject test: an edition with a second subject (``Edition.subject_b``) goes out
first to two small groups, one per subject; the rest wait, and get the subject with more
unique clicks per delivered mail once the window has closed.

At send start each ledger row gets its group: ``Delivery.subject_variant`` "a" or "b" for
DIGEST_SUBJECT_TEST_SHARE of the readers each (a shuffle seeded by the edition, so a
repeated start picks the same readers), None for the rest, whose rows are not due before
``Delivery.subject_hold_until`` (now + DIGEST_SUBJECT_TEST_MINUTES). The first batch that
claims a row of the rest decides the winner once, for every later batch: "b" when its rate
is higher, else "a" (also when nobody has clicked yet). The subject is a header: both
subjects share one rendering per variant (digest.mail.message.MailTemplate.assemble).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import distinct, func, update
from sqlmodel import Session, select

from digest.models import Click, Delivery, DeliveryStatus, Edition, utcnow
from digest.settings import Settings

GROUPS = ("a", "b")


def split(session: Session, settings: Settings, edition: Edition, *, chunk: int = 1000) -> None:
    """Give the edition's rows their subject test groups and hold the rest back."""
    if not edition.subject_b:
        return
    ids = list(session.exec(select(Delivery.id).where(Delivery.edition_id == edition.id)
                            .order_by(Delivery.id)).all())
    random.Random(edition.id).shuffle(ids)
    size = max(1, round(len(ids) * settings.subject_test_share))
    for index, group in enumerate(GROUPS):
        chosen = ids[index * size:(index + 1) * size]
        for start in range(0, len(chosen), chunk):
            session.execute(update(Delivery).where(Delivery.id.in_(chosen[start:start + chunk]))
                            .values(subject_variant=group))
    until = utcnow() + timedelta(minutes=settings.subject_test_minutes)
    session.execute(update(Delivery).where(Delivery.edition_id == edition.id,
                                           Delivery.subject_variant.is_(None))
                    .values(subject_hold_until=until))


def subject_of(edition: Edition, variant_subject: str, group: str | None) -> str:
    """The subject a row of `group` gets with a variant whose own subject is `variant_subject`
    (the rest: the winner's)."""
    if (group or edition.subject_winner) == "b" and edition.subject_b:
        return edition.subject_b
    return variant_subject


def decide(session: Session, edition: Edition) -> str:
    """The winner, decided now if it is not yet (the first decision stands, however many
    batches race to make it)."""
    if edition.subject_winner is None:
        rates = standing(session, edition.id)
        winner = "b" if rates["b"].rate > rates["a"].rate else "a"
        session.execute(update(Edition).where(Edition.id == edition.id, Edition.subject_winner.is_(None))
                        .values(subject_winner=winner))
        session.commit()
        session.refresh(edition)
    return edition.subject_winner


@dataclass(frozen=True)
class Standing:
    delivered: int
    clicked: int  # readers of the group who clicked at least once

    @property
    def rate(self) -> float:
        return self.clicked / self.delivered if self.delivered else 0.0


def standing(session: Session, edition_id: int) -> dict[str, Standing]:
    """Per test group: mails delivered and unique readers who clicked."""
    delivered = dict(session.exec(
        select(Delivery.subject_variant, func.count()).where(
            Delivery.edition_id == edition_id, Delivery.subject_variant.is_not(None),
            Delivery.status == DeliveryStatus.SENT).group_by(Delivery.subject_variant)).all())
    clicked = dict(session.exec(
        select(Delivery.subject_variant, func.count(distinct(Click.subscriber_id)))
        .join(Delivery, (Delivery.subscriber_id == Click.subscriber_id)
              & (Delivery.edition_id == Click.edition_id))
        .where(Click.edition_id == edition_id, Delivery.subject_variant.is_not(None))
        .group_by(Delivery.subject_variant)).all())
    return {group: Standing(delivered.get(group, 0), clicked.get(group, 0)) for group in GROUPS}


@dataclass(frozen=True)
class Report:
    subject_a: str
    subject_b: str
    a: Standing
    b: Standing
    winner: str | None       # None until the window has closed and a batch decided
    decides_at: datetime | None

    def lines(self) -> list[str]:
        def rate(group: str, s: Standing, subject: str) -> str:
            return (f"subject {group.upper()} {subject!r}: {s.clicked} of {s.delivered} "
                    f"clicked ({s.rate:.1%})")
        verdict = (f"winner: {self.winner.upper()}" if self.winner else
                   f"the rest wait until {self.decides_at:%Y-%m-%d %H:%M} UTC" if self.decides_at
                   else "not started")
        return [rate("a", self.a, self.subject_a), rate("b", self.b, self.subject_b), verdict]

    def as_dict(self) -> dict:
        def one(s: Standing) -> dict:
            return {"delivered": s.delivered, "clicked": s.clicked, "rate": round(s.rate, 4)}
        return {"subject_a": self.subject_a, "subject_b": self.subject_b, "a": one(self.a),
                "b": one(self.b), "winner": self.winner,
                "decides_at": self.decides_at.isoformat() if self.decides_at else None}


def report(session: Session, edition: Edition) -> Report | None:
    """Both rates and the winner, for an edition with a second subject."""
    if not edition.subject_b:
        return None
    rates = standing(session, edition.id)
    decides_at = session.exec(select(Delivery.subject_hold_until).where(
        Delivery.edition_id == edition.id, Delivery.subject_hold_until.is_not(None)).limit(1)).first()
    return Report(edition.subject, edition.subject_b, rates["a"], rates["b"],
                  edition.subject_winner, decides_at)
