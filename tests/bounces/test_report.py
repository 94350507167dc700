"""An edition's deliverability report, counted from the ledger, the feedback and the clicks."""

from datetime import timedelta

from sqlmodel import select

from digest.bounces.report import edition_reports
from digest.models import Click, Delivery, DeliveryStatus, EditionItem, Feedback, utcnow
from digest.subscribers.suppression import email_hash


def test_counts_rates_and_warnings_per_edition(sent):
    session, edition = sent.session, sent.edition
    rows = session.exec(select(Delivery).where(Delivery.edition_id == edition.id)).all()
    assert len(rows) >= 4
    rows[0].status = DeliveryStatus.BOUNCED
    session.add(rows[0])
    story = session.exec(select(EditionItem.story_id).where(EditionItem.edition_id == edition.id)).first()
    later = utcnow() + timedelta(minutes=5)
    for row, kind in zip(rows[1:4], ("hard", "complaint", "soft")):
        session.add(Feedback(edition_id=edition.id, subscriber_id=row.subscriber_id, kind=kind, source="mail",
                             email_hash=email_hash(f"{row.subscriber_id}@example.org"), created_at=later))
    for row in rows[1:3]:
        session.add(Click(edition_id=edition.id, story_id=story, subscriber_id=row.subscriber_id))
    session.commit()

    report = edition_reports(session, [edition.id, edition.id + 1000])
    mine, nothing = report[edition.id], report[edition.id + 1000]
    sent_count = len(rows) - 1
    assert (mine.sent, mine.refused, mine.hard, mine.soft, mine.complaints) == (sent_count, 1, 1, 1, 1)
    assert (mine.clicks, mine.clickers) == (2, 2)
    assert mine.hard_bounce_rate == 2 / len(rows) and mine.complaint_rate == 1 / sent_count
    assert [w.split()[0] for w in mine.warnings()] == ["complaint", "hard-bounce"]
    assert (nothing.sent, nothing.warnings()) == (0, [])
