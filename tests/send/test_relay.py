"""The send path against a real SMTP server: many connections at once and kept between
batches, the shared cap, a relay at its connection limit, an outage that heals, a relay
that refuses our mail, an address the relay cannot carry. In-process batches, on both
databases; the Celery path is in test_faults.py."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, insert, select
from sqlmodel import Session

from digest.db import get_engine
from digest.mail.backends import smtp_relay
from digest.mail.backends.base import Job, SingleGate
from digest.mail.backends.pool import Slots, SMTPRelay
from digest.mail.backends.smtp import SMTPBackend
from digest.mail.errors import NoSlot
from digest.mail.message import OutgoingMessage
from digest.models import Delivery, DeliveryStatus, EditionStatus, Subscriber, Subscription, \
    SubscriptionStatus, Suppression, utcnow
from digest.send import control, ledger
from digest.send.service import send_batch, start_send
from tests.conftest import make_settings
from tests.factories import active_emails, approved_edition, sample_world
from tests.send.conftest import add_subscribers
from tests.smtp_server import SMTPSink, free_port


@pytest.fixture
def sink():
    server = SMTPSink()
    server.start()
    yield server
    server.stop()


def relay_settings(tmp_path, database_url, sink, **overrides):
    values = dict(mail_backend="smtp", smtp_host="127.0.0.1", smtp_port=sink.port, smtp_timeout=5,
                  smtp_connections=4, batch_size=40, retry_base_seconds=0.3,
                  smtp_backoff_seconds=0, celery_queue=f"digest-test-{uuid.uuid4().hex[:8]}")
    values.update(overrides)
    return make_settings(tmp_path, database_url, **values)


def started(session, settings, readers: int = 30):
    morning = sample_world(session, settings)["morning-briefing"]
    add_subscribers(session, morning, readers)
    edition = approved_edition(session, morning)
    start_send(session, settings, edition.id)
    return morning, edition


def statuses(session, edition_id) -> dict[str, int]:
    session.expire_all()
    return ledger.counts(session, edition_id)


def test_a_batch_streams_over_several_connections_kept_for_the_next_batch(tmp_path, database_url, sink):
    settings = relay_settings(tmp_path, database_url, sink, batch_size=20)
    with Session(get_engine(database_url), expire_on_commit=False) as session:
        morning, edition = started(session, settings)
        relay = smtp_relay(settings)
        while ledger.count_due(session, edition.id):
            send_batch(session, settings, relay, edition.id)
        assert statuses(session, edition.id) == {"sent": len(active_emails(session, morning))}
        assert sorted(sink.recipients()) == sorted(active_emails(session, morning))
    assert sink.peak_connections == settings.smtp_connections
    # Two batches or more, one set of connections: the pool kept them open in between.
    assert sink.sessions_opened == settings.smtp_connections
    relay.shutdown()


def test_the_cap_shared_through_redis_holds_for_all_workers(tmp_path, redis_url, sink):
    key = f"digest-test:{uuid.uuid4().hex}:smtp"
    first, second = (SMTPRelay(lambda slot: SMTPBackend(host="127.0.0.1", port=sink.port, slot=slot),
                               3, Slots(redis_url, key, cap=4)) for _ in range(2))
    with first.lanes(3) as a, second.lanes(3) as b:
        opened = []
        for lane in [*a, *b]:
            try:
                lane.open()
                opened.append(lane)
            except Exception as refused:  # noqa: BLE001 - the assertion below says what it is
                assert getattr(refused, "busy", False), refused
        assert len(opened) == 4 and sink.connections == 4
        for lane in opened:
            lane.close()
    # Closed connections give their slots back at once.
    with first.lanes(3) as again:
        for lane in again:
            lane.open()
        assert sink.connections == 3
    first.shutdown()


def test_a_relay_at_its_connection_limit_shrinks_the_pool_and_fails_nothing(tmp_path, database_url):
    sink = SMTPSink(max_connections=2)
    sink.start()
    try:
        settings = relay_settings(tmp_path, database_url, sink, smtp_connections=6)
        with Session(get_engine(database_url), expire_on_commit=False) as session:
            morning, edition = started(session, settings)
            relay = smtp_relay(settings)
            report = send_batch(session, settings, relay, edition.id)
            assert report.outcomes == {"sent": settings.batch_size}
            assert relay.limit == 2
            while ledger.count_due(session, edition.id):
                send_batch(session, settings, relay, edition.id)
            assert statuses(session, edition.id) == {"sent": len(active_emails(session, morning))}
        assert sink.peak_connections == 2
        relay.shutdown()
    finally:
        sink.stop()


def test_an_unreachable_relay_defers_the_batch_says_since_when_and_heals(tmp_path, database_url, sink):
    settings = relay_settings(tmp_path, database_url, sink)
    with Session(get_engine(database_url), expire_on_commit=False) as session:
        morning, edition = started(session, settings)
        relay = smtp_relay(settings)
        sink.down()
        report = send_batch(session, settings, relay, edition.id)
        assert report.outage and not report.outcomes
        counts = statuses(session, edition.id)
        assert counts[DeliveryStatus.DEFERRED] == settings.batch_size
        assert DeliveryStatus.CLAIMED not in counts  # never left claimed until the lease ends
        row = session.execute(select(Delivery).where(Delivery.status == DeliveryStatus.DEFERRED)).scalars().first()
        assert "relay unreachable" in row.last_error
        assert row.next_attempt_at <= utcnow() + timedelta(seconds=settings.retry_base_seconds)
        problem = control.progress(session, edition.id).problem
        assert problem.startswith("relay unreachable since ") and "cannot connect" in problem

        sink.up()
        time.sleep(settings.retry_base_seconds)
        while ledger.count_due(session, edition.id):
            send_batch(session, settings, relay, edition.id)
        assert statuses(session, edition.id) == {"sent": len(active_emails(session, morning))}
        assert control.progress(session, edition.id).problem is None
    relay.shutdown()


def test_a_relay_refusing_our_mail_pauses_the_send_and_suppresses_nobody(tmp_path, database_url, sink):
    settings = relay_settings(tmp_path, database_url, sink, smtp_connections=1,
                              smtp_max_consecutive_refusals=3)
    with Session(get_engine(database_url), expire_on_commit=False) as session:
        morning, edition = started(session, settings)
        for address in active_emails(session, morning):
            sink.refuse[address] = "554 5.7.1 <x>: Relay access denied"
        relay = smtp_relay(settings)
        report = send_batch(session, settings, relay, edition.id)
        assert report.outcomes == {"failed": 3}
        assert report.note.startswith("the relay refuses our mail: 554 5.7.1")
        session.expire_all()
        assert session.get(type(edition), edition.id).status == EditionStatus.PAUSED
        assert "the relay refuses our mail" in control.progress(session, edition.id).problem
        assert session.execute(select(func.count()).select_from(Suppression)).scalar_one() == 0
        # Ops fix the relay, resume and resend the failed ones: everyone gets one copy.
        sink.refuse.clear()
        control.resume_send(session, settings, edition.id)
        control.retry_failed(session, settings, edition.id)
        while ledger.count_due(session, edition.id):
            send_batch(session, settings, relay, edition.id)
        assert statuses(session, edition.id) == {"sent": len(active_emails(session, morning))}
        assert sorted(sink.recipients()) == sorted(active_emails(session, morning))
    relay.shutdown()


@pytest.mark.parametrize("smtputf8", [False, True], ids=["relay-without-smtputf8", "relay-with-smtputf8"])
def test_an_internationalised_address_fails_alone_where_the_relay_cannot_carry_it(
        tmp_path, database_url, smtputf8):
    sink = SMTPSink(smtputf8=smtputf8)
    sink.start()
    try:
        settings = relay_settings(tmp_path, database_url, sink)
        with Session(get_engine(database_url), expire_on_commit=False) as session:
            morning = sample_world(session, settings)["morning-briefing"]
            add_subscribers(session, morning, 10)
            subscriber_id = session.execute(insert(Subscriber).values(
                email="josé@example.net", name="José", created_at=utcnow()).returning(Subscriber.id)).scalar_one()
            session.execute(insert(Subscription).values(
                subscriber_id=subscriber_id, list_id=morning.id, status=SubscriptionStatus.ACTIVE,
                topics=[], created_at=utcnow()))
            session.commit()
            edition = approved_edition(session, morning)
            start_send(session, settings, edition.id)
            relay = smtp_relay(settings)
            send_batch(session, settings, relay, edition.id)
            row = session.execute(select(Delivery).where(Delivery.subscriber_id == subscriber_id)).scalar_one()
            everyone = len(active_emails(session, morning))
            if smtputf8:
                assert row.status == DeliveryStatus.SENT
                assert statuses(session, edition.id) == {"sent": everyone}
                assert f"<digest.{edition.id}.{subscriber_id}@news.example.org>" in sink.message_ids()
            else:
                assert row.status == DeliveryStatus.FAILED and "SMTPUTF8" in row.last_error
                assert statuses(session, edition.id) == {"sent": everyone - 1, "failed": 1}
        relay.shutdown()
    finally:
        sink.stop()


def test_bounces_in_a_row_pause_the_send_before_they_suppress_the_list(tmp_path, database_url, sink):
    settings = relay_settings(tmp_path, database_url, sink, smtp_connections=1, smtp_max_consecutive_bounces=3)
    with Session(get_engine(database_url), expire_on_commit=False) as session:
        morning, edition = started(session, settings)
        for address in active_emails(session, morning):
            # Reads like a bounce; a relay misconfigured against us can say this for everyone.
            sink.refuse[address] = "550 5.1.1 user unknown"
        report = send_batch(session, settings, smtp_relay(settings), edition.id)
        assert report.outcomes == {"bounced": 3}
        assert report.note.startswith("bounces in a row, paused: 3 addresses in a row")
        session.expire_all()
        assert session.get(type(edition), edition.id).status == EditionStatus.PAUSED
        assert session.execute(select(func.count()).select_from(Suppression)).scalar_one() == 3
        assert control.progress(session, edition.id).problem.startswith("bounces in a row, paused since ")


def test_a_rate_limiter_that_cannot_be_asked_stops_the_batch_and_leaves_nothing_in_flight(
        tmp_path, database_url, redis_url, sink):
    closed = f"redis://127.0.0.1:{free_port()}/0"  # the limiter's; the connection count's works
    settings = relay_settings(tmp_path, database_url, sink, broker_url=closed, redis_url=redis_url,
                              send_rate_per_second=100)
    with Session(get_engine(database_url), expire_on_commit=False) as session:
        morning, edition = started(session, settings)
        relay = smtp_relay(settings)
        report = send_batch(session, settings, relay, edition.id)
        assert report.note.startswith("the send rate limit cannot be checked")
        counts = statuses(session, edition.id)
        assert not {DeliveryStatus.CLAIMED, DeliveryStatus.SENDING} & set(counts)
        assert counts.get(DeliveryStatus.SENT, 0) == len(sink.messages)
    # Whatever stopped the lanes, the pool holds no connection left in the middle of a mail.
    relay.send(OutgoingMessage("daily@news.example.org", "after@example.net", "<after@x>",
                               b"Subject: after\r\nMessage-ID: <after@x>\r\n\r\nhi\r\n"))
    assert "<after@x>" in sink.message_ids()
    relay.shutdown()


def test_a_connection_whose_slot_lapsed_while_idle_is_closed_not_used_above_the_cap(
        redis_url, sink, monkeypatch):
    import redis

    from digest.mail.backends import smtp as smtp_module
    key = f"digest-test:{uuid.uuid4().hex}:smtp"
    first, second = (SMTPRelay(lambda slot: SMTPBackend(host="127.0.0.1", port=sink.port, slot=slot),
                               1, Slots(redis_url, key, cap=1)) for _ in range(2))
    with first.lanes(1) as (idle,):
        idle.open()
    redis.Redis.from_url(redis_url).delete(key)  # its slot lapsed while it sat idle
    with second.lanes(1) as (other,):
        other.open()  # ... and another worker took it
        monkeypatch.setattr(smtp_module, "SLOT_REFRESH_SECONDS", 0)
        with first.lanes(1) as (again,):
            with pytest.raises(NoSlot):
                again.send_stream(iter([Job(1, OutgoingMessage("a@x.org", "b@x.org", "<m@x>", b"\r\n"))]),
                                  SingleGate())
            assert again.connection is None
        sink.wait_connections(1)
        assert sink.connections == 1
    second.shutdown()
