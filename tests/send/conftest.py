"""The send rig: a real Celery worker, real Redis, real PostgreSQL and a fault-injecting
SMTP server, with a few hundred subscribers, short leases and fast retries so that every
fault scenario finishes in seconds."""

from __future__ import annotations

import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import insert, literal, select, update
from sqlmodel import Session

from digest.celery_app import make_celery
from digest.db import get_engine
from digest.models import (
    Delivery, DeliveryStatus, DigestList, Edition, EditionStatus, Subscriber, Subscription, SubscriptionStatus,
    utcnow,
)
from digest.send import ledger
from digest.settings import Settings
from tests.conftest import _truncate, make_settings
from tests.factories import approved_edition, sample_world
from tests.smtp_server import SMTPSink
from tests.workers import celery_worker, digest_env, wait_for


def add_subscribers(session: Session, digest_list: DigestList, n: int, prefix: str = "reader") -> None:
    """`n` active subscribers of the list, inserted set-wise (one executemany, one INSERT ... SELECT)."""
    now = utcnow()
    session.execute(insert(Subscriber), [
        {"email": f"{prefix}{i}@example.net", "name": f"Reader {i}", "created_at": now}
        for i in range(n)])
    session.execute(insert(Subscription).from_select(
        ["subscriber_id", "list_id", "status", "topics", "created_at"],
        select(Subscriber.id, literal(digest_list.id), literal(SubscriptionStatus.ACTIVE.value),
               literal([], Subscription.__table__.c.topics.type), literal(now, Subscription.__table__.c.created_at.type))
        .where(Subscriber.email.like(f"{prefix}%@example.net"))))
    session.commit()


@dataclass
class SendRig:
    settings: Settings
    env: dict[str, str]
    sink: SMTPSink
    edition_id: int
    list_id: int
    log_dir: Path

    def session(self) -> Session:
        return Session(get_engine(self.settings.database_url), expire_on_commit=False)

    @contextmanager
    def worker(self, concurrency: int = 1, name: str = "worker"):
        with celery_worker(self.env, self.log_dir / f"{name}.log", concurrency=concurrency) as process:
            yield process

    def task(self, name: str, *args) -> None:
        make_celery(self.settings).send_task(name, args=list(args))

    def eligible(self) -> set[str]:
        """Message-IDs every currently active subscriber of the list must get, once."""
        with self.session() as session:
            ids = session.execute(select(Subscription.subscriber_id).where(
                Subscription.list_id == self.list_id,
                Subscription.status == SubscriptionStatus.ACTIVE)).scalars().all()
        return {f"<digest.{self.edition_id}.{sid}@news.example.org>" for sid in ids}

    def status(self) -> str:
        with self.session() as session:
            return session.get(Edition, self.edition_id).status

    def counts(self) -> dict[str, int]:
        with self.session() as session:
            return ledger.counts(session, self.edition_id)

    def finish(self, timeout: float = 60) -> None:
        """Run the reconciler (the real task, through the worker) until the send is over."""
        self.until(lambda: self.status() == EditionStatus.SENT, timeout)

    def until(self, condition, timeout: float = 60) -> None:
        """Wait for `condition`, running the reconciler as beat would, only faster."""
        def done():
            if condition():
                return True
            self.task("digest.reconcile")
            return False
        wait_for(done, timeout=timeout, interval=0.5)

    def unknown(self) -> set[str]:
        """Message-IDs of rows whose outcome is unknown (a worker died mid-transaction)."""
        with self.session() as session:
            ids = session.execute(select(Delivery.subscriber_id).where(
                Delivery.edition_id == self.edition_id,
                Delivery.status == DeliveryStatus.UNKNOWN)).scalars().all()
        return {f"<digest.{self.edition_id}.{sid}@news.example.org>" for sid in ids}

    def assert_exactly_once(self, expected: set[str] | None = None) -> None:
        """Every eligible subscriber got exactly one message and nobody else got any,
        counted at the SMTP server by Message-ID. A row left `unknown` (its worker was
        killed with the message in flight) may or may not have arrived, but never twice."""
        expected = self.eligible() if expected is None else expected
        received = self.sink.message_id_counts()
        repeated = {mid: n for mid, n in received.items() if n > 1}
        assert not repeated, f"sent more than once: {repeated}"
        assert not set(received) - expected, f"sent to the ineligible: {set(received) - expected}"
        missing = expected - set(received) - self.unknown()
        assert not missing, f"never sent: {sorted(missing)[:5]}..."

    def sink_is_quiet(self, seconds: float = 0.5) -> bool:
        """No message arrived for `seconds`: the batches have stopped."""
        before = len(self.sink.messages)
        time.sleep(seconds)
        return len(self.sink.messages) == before

    def unsubscribe(self, emails: list[str]) -> None:
        with self.session() as session:
            ids = select(Subscriber.id).where(Subscriber.email.in_(emails))
            session.execute(update(Subscription).where(Subscription.subscriber_id.in_(ids),
                                                       Subscription.list_id == self.list_id)
                            .values(status=SubscriptionStatus.UNSUBSCRIBED))
            session.commit()

    def delivery_of(self, email: str) -> Delivery:
        with self.session() as session:
            return session.execute(select(Delivery).join(Subscriber, Subscriber.id == Delivery.subscriber_id)
                                   .where(Subscriber.email == email,
                                          Delivery.edition_id == self.edition_id)).scalar_one()


SUBSCRIBERS = 200


@pytest.fixture
def rig(tmp_path, postgres_database, redis_url, smtp_server) -> SendRig:
    _truncate(postgres_database)
    values = dict(
        database_url=postgres_database, broker_url=redis_url,
        celery_queue=f"digest-test-{uuid.uuid4().hex[:8]}",
        mail_backend="smtp", smtp_host="127.0.0.1", smtp_port=str(smtp_server.port), smtp_timeout="20",
        public_url="https://news.example.org", secret_key="test-secret",
        from_email="Example Daily <daily@news.example.org>",
        batch_size="20", delivery_lease_seconds="3", retry_base_seconds="0.3",
        smtp_backoff_seconds="0.05", smtp_max_consecutive_failures="3",
    )
    settings = make_settings(tmp_path, **values)
    with Session(get_engine(postgres_database), expire_on_commit=False) as session:
        morning = sample_world(session, settings)["morning-briefing"]
        add_subscribers(session, morning, SUBSCRIBERS)
        edition = approved_edition(session, morning)
    return SendRig(settings, digest_env(**values), smtp_server, edition.id, morning.id, tmp_path)
