"""The delivery ledger under concurrency and mid-send changes, on both databases."""

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from sqlmodel import Session, select

from digest.db import get_engine
from digest.mail.backends.memory import MemoryBackend
from digest.models import Delivery, DeliveryStatus, EditionStatus, Subscriber, Subscription, utcnow, \
    SubscriptionStatus
from digest.send import ledger, writing
from digest.send.control import pause_send
from digest.send.service import SendError, send_batch, start_send
from digest.subscribers.suppression import suppression_reason
from tests.factories import active_emails, approved_edition, sample_world

import pytest


def test_two_batches_never_claim_the_same_row(session, settings):
    morning = sample_world(session, settings)["morning-briefing"]
    edition = approved_edition(session, morning)
    start_send(session, settings, edition.id)
    with Session(get_engine(settings.database_url)) as other:
        _, first = ledger.claim(session, edition.id, 5, 60)
        _, second = ledger.claim(other, edition.id, 5, 60)
    assert first and second
    assert not {row[0] for row in first} & {row[0] for row in second}


def test_starting_twice_starts_once(session, settings):
    morning = sample_world(session, settings)["morning-briefing"]
    edition = approved_edition(session, morning)
    assert start_send(session, settings, edition.id) == 1
    with pytest.raises(SendError, match="already sending"):
        start_send(session, settings, edition.id)
    rows = session.exec(select(Delivery).where(Delivery.edition_id == edition.id)).all()
    assert len(rows) == len(active_emails(session, morning))


def test_a_subscriber_who_leaves_mid_send_is_skipped(session, settings):
    morning = sample_world(session, settings)["morning-briefing"]
    edition = approved_edition(session, morning)
    start_send(session, settings, edition.id)
    leaver = session.exec(select(Subscriber).where(Subscriber.email == "grace.hopper@example.com")).one()
    subscription = session.exec(select(Subscription).where(
        Subscription.subscriber_id == leaver.id, Subscription.list_id == morning.id)).one()
    subscription.status = SubscriptionStatus.UNSUBSCRIBED
    session.commit()

    backend = MemoryBackend()
    report = send_batch(session, settings, backend, edition.id)

    assert "grace.hopper@example.com" not in {m.recipient for m in backend.outbox}
    assert report.outcomes["skipped"] == 1
    assert ledger.counts(session, edition.id) == {"sent": len(backend.outbox), "skipped": 1}


def test_a_dead_batch_loses_only_its_in_flight_message(session, settings):
    morning = sample_world(session, settings)["morning-briefing"]
    edition = approved_edition(session, morning)
    start_send(session, settings, edition.id)
    token, rows = ledger.claim(session, edition.id, 4, lease_seconds=0)
    # The batch began its first message and died before recording the outcome.
    with writing.writer(session, token, morning.id) as writer:
        assert writer.step([], rows[0][0]) == (True, None)

    back, lost = ledger.expire_leases(session, edition.id)

    assert (back, lost) == (3, 1)
    assert session.get(Delivery, rows[0][0]).status == DeliveryStatus.UNKNOWN
    backend = MemoryBackend()
    send_batch(session, settings, backend, edition.id)
    assert len(backend.outbox) == len(active_emails(session, morning)) - 1
    session.expire_all()
    assert session.get(type(edition), edition.id).status == EditionStatus.SENT


def test_a_stale_token_cannot_send_a_row_taken_over_by_another_batch(session, settings):
    morning = sample_world(session, settings)["morning-briefing"]
    edition = approved_edition(session, morning)
    start_send(session, settings, edition.id)
    old_token, rows = ledger.claim(session, edition.id, 2, lease_seconds=0)
    ledger.expire_leases(session, edition.id)
    new_token, again = ledger.claim(session, edition.id, 2, lease_seconds=60)
    assert again == rows
    with writing.writer(session, old_token, morning.id) as stale:
        assert stale.step([], rows[0][0]) == (False, writing.Refusal.TAKEN)
    with writing.writer(session, new_token, morning.id) as fresh:
        assert fresh.step([], rows[0][0]) == (True, None)


def statuses(settings, ids) -> list[str]:
    """As another connection sees them: only what is committed."""
    with Session(get_engine(settings.database_url)) as other:
        return [other.get(Delivery, i).status for i in ids]


def claimed(session, settings, n: int):
    """A started send and `n` of its rows claimed by one batch: (list, edition, token, ids)."""
    morning = sample_world(session, settings)["morning-briefing"]
    edition = approved_edition(session, morning)
    start_send(session, settings, edition.id)
    token, rows = ledger.claim(session, edition.id, n, lease_seconds=60)
    return morning, edition, token, [row[0] for row in rows]


def test_an_outcome_commits_together_with_the_next_start(session, settings):
    morning, _, token, ids = claimed(session, settings, 3)
    with writing.writer(session, token, morning.id) as writer:
        assert writer.step([], ids[0]) == (True, None)
        # The first row is in flight, durably, before its data may go out.
        assert statuses(settings, ids) == ["sending", "claimed", "claimed"]
        assert writer.step([writing.Outcome(ids[0], DeliveryStatus.SENT)], ids[1]) == (True, None)
        assert statuses(settings, ids) == ["sent", "sending", "claimed"]
        writer.step([writing.Outcome(ids[1], DeliveryStatus.DEFERRED, "451 try later")], None)
    assert statuses(settings, ids) == ["sent", "deferred", "claimed"]
    session.expire_all()
    first, second = session.get(Delivery, ids[0]), session.get(Delivery, ids[1])
    assert first.sent_at is not None and first.claim_token is None and first.attempts == 1
    assert second.last_error == "451 try later" and second.sent_at is None


def test_a_refused_start_still_writes_the_outcome_before_it(session, settings):
    morning, edition, token, ids = claimed(session, settings, 2)
    with writing.writer(session, token, morning.id) as writer:
        assert writer.step([], ids[0]) == (True, None)
        pause_send(session, edition.id)
        bounced = writing.Outcome(ids[0], DeliveryStatus.BOUNCED, "550 5.1.1 no such user",
                                 suppress="grace.hopper@example.com")
        assert writer.step([bounced], ids[1]) == (False, writing.Refusal.STOPPED)
    assert statuses(settings, ids) == ["bounced", "claimed"]
    assert suppression_reason(session, "grace.hopper@example.com") == "bounce"


def test_steps_of_many_lanes_are_written_together_and_each_gets_its_answer(session, settings):
    morning, _, token, ids = claimed(session, settings, 6)
    with writing.writer(session, token, morning.id) as writer:
        with ThreadPoolExecutor(6) as pool:
            answers = list(pool.map(lambda i: writer.step([], i), ids))
    assert answers == [(True, None)] * 6
    assert statuses(settings, ids) == ["sending"] * 6


def test_a_row_whose_subscriber_was_erased_is_refused_not_an_error(session, settings):
    morning, _, token, ids = claimed(session, settings, 2)
    row = session.get(Delivery, ids[1])
    session.delete(session.get(Subscriber, row.subscriber_id))
    session.commit()
    with writing.writer(session, token, morning.id) as writer:
        assert writer.step([], ids[1]) == (False, writing.Refusal.TAKEN)


def test_untried_rows_are_claimed_before_deferred_ones_that_come_due_again(session, settings):
    morning, edition, token, ids = claimed(session, settings, 2)
    assert ledger.defer_claimed(session, token, "relay unreachable: down", utcnow() - timedelta(seconds=1)) == 2
    _, rows = ledger.claim(session, edition.id, 2, lease_seconds=60)
    assert not {row[0] for row in rows} & set(ids)
    _, rest = ledger.claim(session, edition.id, 1000, lease_seconds=60)
    assert set(ids) <= {row[0] for row in rest}  # ... and they come once no untried row is left
