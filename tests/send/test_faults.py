"""Exactly once under faults: a real worker, Redis, PostgreSQL and an SMTP server that
misbehaves on cue. Each test counts what the SMTP server received by Message-ID."""

from __future__ import annotations

import os
import signal
import threading

from sqlalchemy import select

from digest.models import DeliveryStatus, EditionStatus, Suppression
from digest.send import control
from digest.subscribers.suppression import email_hash
from tests.workers import wait_for


def children(pid: int) -> list[int]:
    with open(f"/proc/{pid}/task/{pid}/children") as listing:
        return [int(p) for p in listing.read().split()]


def test_a_worker_killed_mid_batch_loses_at_most_one_message_per_connection(rig):
    # The 50th message is received, then its reply is held back: the batch is mid-send.
    rig.sink.slow(50, seconds=5)
    with rig.worker(concurrency=1) as worker:
        rig.task("digest.start_send", rig.edition_id)
        assert rig.sink.in_flight.wait(30)
        open_connections = rig.sink.connections
        (pool_child,) = children(worker.pid)
        os.kill(pool_child, signal.SIGKILL)
        # The pool restarts a child; the reconciler takes the dead batch's rows back.
        rig.finish()
    counts = rig.counts()
    # Each connection had at most its one message in flight; the slow one is among them.
    assert 1 <= counts.get(DeliveryStatus.UNKNOWN) <= open_connections <= rig.settings.smtp_connections
    slow = rig.sink.messages[49]["Message-ID"]
    assert slow in rig.unknown()
    assert counts[DeliveryStatus.SENT] == len(rig.eligible()) - counts[DeliveryStatus.UNKNOWN]
    rig.assert_exactly_once()


def test_the_whole_worker_killed_and_restarted_finishes_the_send(rig):
    rig.sink.slow(40, seconds=5)
    with rig.worker(concurrency=2, name="first") as worker:
        rig.task("digest.start_send", rig.edition_id)
        assert rig.sink.in_flight.wait(30)
        for pid in [*children(worker.pid), worker.pid]:
            os.kill(pid, signal.SIGKILL)
        worker.wait()
    with rig.worker(concurrency=2, name="second"):
        rig.finish()
    # Two batches were running: each may leave one message per connection unknown.
    assert rig.counts().get(DeliveryStatus.UNKNOWN, 0) <= 2 * rig.settings.smtp_connections
    rig.assert_exactly_once()


def test_the_server_dropping_the_connection_mid_batch(rig):
    rig.sink.drop_every(40)
    with rig.worker(concurrency=2):
        rig.task("digest.start_send", rig.edition_id)
        rig.finish()
    assert rig.sink.drops >= 3
    assert rig.counts() == {DeliveryStatus.SENT: len(rig.eligible())}
    rig.assert_exactly_once()


def test_421_and_451_for_a_while_are_retried(rig):
    rig.sink.busy("451 4.3.0 try again later", count=30)
    with rig.worker(concurrency=2):
        rig.task("digest.start_send", rig.edition_id)
        rig.until(lambda: rig.counts().get(DeliveryStatus.SENT, 0) >= 100)
        rig.sink.busy("421 4.7.0 too busy, closing", count=10)
        rig.finish()
    assert rig.counts() == {DeliveryStatus.SENT: len(rig.eligible())}
    rig.assert_exactly_once()


def test_550_bounces_and_suppresses_without_retrying(rig):
    gone = [f"reader{i}@example.net" for i in range(5, 200, 20)]
    for address in gone:
        rig.sink.refuse[address] = "550 5.1.1 no such user"
    with rig.worker(concurrency=2):
        rig.task("digest.start_send", rig.edition_id)
        rig.finish()
    for address in gone:
        delivery = rig.delivery_of(address)
        assert (delivery.status, delivery.attempts) == (DeliveryStatus.BOUNCED, 1)
    with rig.session() as session:
        suppressed = set(session.execute(select(Suppression.email_hash)).scalars())
    assert {email_hash(a) for a in gone} <= suppressed
    bounced = {f"<digest.{rig.edition_id}.{rig.delivery_of(a).subscriber_id}@news.example.org>"
               for a in gone}
    rig.assert_exactly_once(rig.eligible() - bounced)


def test_a_subscriber_who_unsubscribes_mid_send_gets_nothing(rig):
    leavers = [f"reader{i}@example.net" for i in range(180, 190)]
    rig.sink.slow(20, seconds=1)
    with rig.worker(concurrency=2):
        rig.task("digest.start_send", rig.edition_id)
        assert rig.sink.in_flight.wait(30)
        rig.unsubscribe(leavers)
        rig.finish()
    assert {rig.delivery_of(a).status for a in leavers} == {DeliveryStatus.SKIPPED}
    rig.assert_exactly_once()  # eligible() is computed now: the leavers are excluded
    assert not set(rig.sink.recipients()) & set(leavers)


def test_starting_twice_at_once_sends_once(rig):
    with rig.worker(concurrency=2):
        start = threading.Barrier(2)

        def start_send():
            start.wait()
            rig.task("digest.start_send", rig.edition_id)
        racers = [threading.Thread(target=start_send) for _ in range(2)]
        for racer in racers:
            racer.start()
        for racer in racers:
            racer.join()
        rig.finish()
        log = (rig.log_dir / "worker.log").read_text(errors="replace")
    assert "already sending" in log
    assert rig.counts() == {DeliveryStatus.SENT: len(rig.eligible())}
    rig.assert_exactly_once()


def test_pause_and_resume_five_times(rig):
    rig.env["DIGEST_SEND_RATE_PER_SECOND"] = "100"  # slow enough to pause it mid-way
    with rig.worker(concurrency=2):
        rig.task("digest.start_send", rig.edition_id)
        for round_ in range(1, 6):
            wait_for(lambda: len(rig.sink.messages) >= round_ * 30)
            with rig.session() as session:
                control.pause_send(session, rig.edition_id)
            assert rig.status() == EditionStatus.PAUSED
            wait_for(rig.sink_is_quiet)
            with rig.session() as session:
                batches = control.resume_send(session, rig.settings, rig.edition_id)
            for _ in range(batches):
                rig.task("digest.send_batch", rig.edition_id)
        rig.finish()
    assert rig.counts() == {DeliveryStatus.SENT: len(rig.eligible())}
    rig.assert_exactly_once()


def test_a_relay_down_defers_the_rows_then_sending_resumes_by_itself_once_it_is_back(rig):
    rig.sink.down()
    with rig.worker(concurrency=2):
        rig.task("digest.start_send", rig.edition_id)
        # Every row waits for its retry with the error; none is left claimed until its lease ends.
        wait_for(lambda: set(rig.counts()) == {DeliveryStatus.DEFERRED})
        with rig.session() as session:
            problem = control.progress(session, rig.edition_id).problem
        assert problem.startswith("relay unreachable since ") and "cannot connect" in problem
        assert "relay unreachable" in rig.delivery_of("reader7@example.net").last_error
        rig.sink.up()
        # No reconciler here: the batch that met the outage queued its own follow-up.
        wait_for(lambda: rig.status() == EditionStatus.SENT, timeout=60)
    with rig.session() as session:
        assert control.progress(session, rig.edition_id).problem is None
    assert rig.counts() == {DeliveryStatus.SENT: len(rig.eligible())}
    rig.assert_exactly_once()
