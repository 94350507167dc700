"""/metrics on the web port: counts after a real send through a real SMTP server, the gauges
read from the database and Redis at scrape time, and the bearer token."""

from __future__ import annotations

import math
import time
import urllib.error
import urllib.request
import uuid
from datetime import timedelta

import pytest
import redis
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY
from sqlmodel import Session

from digest import metrics
from digest.db import get_engine
from digest.ingest.service import ingest_source
from digest.mail.backends import smtp_relay
from digest.models import Edition, EditionStatus, Source, utcnow
from digest.send.service import run_batches, send_inline
from digest.web.app import create_app
from tests.conftest import make_settings
from tests.factories import active_emails, approved_edition, sample_world
from tests.scrape import labelled, samples, value
from tests.send.conftest import add_subscribers
from tests.smtp_server import free_port

LIST = "morning-briefing"


def scrape(client: TestClient, **headers: str):
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return samples(response.text)


def test_a_send_shows_in_the_metrics_by_outcome_list_and_reply_class(tmp_path, database_url, smtp_server):
    settings = make_settings(tmp_path, database_url, mail_backend="smtp", smtp_host="127.0.0.1",
                             smtp_port=smtp_server.port, smtp_timeout=5, smtp_connections=2,
                             batch_size=10, retry_base_seconds=1, smtp_backoff_seconds=0,
                             celery_queue=f"digest-test-{uuid.uuid4().hex[:8]}")
    with Session(get_engine(database_url), expire_on_commit=False) as session:
        morning = sample_world(session, settings)[LIST]
        add_subscribers(session, morning, 12)
        edition = approved_edition(session, morning)
        readers = len(active_emails(session, morning))
        wire = Source(name="Wire", url="https://wire.example.com/feed",
                      last_success_at=utcnow() - timedelta(minutes=10))
        session.add(wire)
        session.commit()
    smtp_server.refuse["reader0@example.net"] = "550 5.1.1 <reader0@example.net>: user unknown"
    smtp_server.refuse["reader1@example.net"] = "451 4.3.0 try again later"
    client = TestClient(create_app(settings))
    before = scrape(client)

    backend = smtp_relay(settings)
    with Session(get_engine(database_url), expire_on_commit=False) as session:
        send_inline(session, settings, backend, edition.id)
        del smtp_server.refuse["reader1@example.net"]
        time.sleep(1.1)  # the deferred row's backoff (longer than the first pass)
        run_batches(session, settings, backend, edition.id)
        edition = session.get(Edition, edition.id, populate_existing=True)
    assert edition.status == EditionStatus.SENT
    after = scrape(client)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("digest_messages_total", outcome="sent", list=LIST) == readers - 1
    assert delta("digest_messages_total", outcome="bounced", list=LIST) == 1
    assert delta("digest_messages_total", outcome="deferred", list=LIST) == 1
    assert delta("digest_messages_total", outcome="failed", list=LIST) == 0
    assert delta("digest_smtp_replies_total", **{"class": "2xx"}) == readers - 1
    assert delta("digest_smtp_replies_total", **{"class": "4xx"}) == 1
    assert delta("digest_smtp_replies_total", **{"class": "5xx"}) == 1
    assert delta("digest_batch_duration_seconds_count") == math.ceil(readers / 10) + 1
    assert delta("digest_batch_duration_seconds_sum") > 0
    # The pool keeps its connections open between batches, and says how many.
    assert smtp_server.connections >= 1
    assert delta("digest_relay_connections_open") == smtp_server.connections

    editions = labelled(after, "digest_editions", "status")
    assert editions == {status.value: (1 if status == EditionStatus.SENT else 0) for status in EditionStatus}
    completed = value(after, "digest_last_send_completed_timestamp_seconds", list=LIST)
    assert abs(completed - edition.sent_at.timestamp()) < 0.001
    stale = value(after, "digest_feed_staleness_seconds", source_id=str(wire.id), source="Wire")
    assert 600 <= stale < 660
    assert value(after, "digest_scrape_source_up", source="database") == 1

    backend.shutdown()
    assert smtp_server.wait_connections(0)
    assert value(scrape(client), "digest_relay_connections_open") == value(before, "digest_relay_connections_open")


def test_the_queue_depth_is_read_from_redis_when_scraped(tmp_path, sqlite_settings, redis_url):
    queue = f"digest-test-{uuid.uuid4().hex[:8]}"
    settings = make_settings(tmp_path, sqlite_settings.database_url, broker_url=redis_url, celery_queue=queue)
    broker = redis.Redis.from_url(redis_url)
    try:
        broker.rpush(queue, "a", "b", "c")
        scraped = scrape(TestClient(create_app(settings)))
    finally:
        broker.delete(queue)
    assert value(scraped, "digest_queue_depth_tasks", queue=queue) == 3
    assert value(scraped, "digest_scrape_source_up", source="redis") == 1

    # A broker out of reach leaves its gauge out and says so; the rest is still served.
    gone = make_settings(tmp_path, sqlite_settings.database_url, celery_queue=queue,
                         broker_url=f"redis://127.0.0.1:{free_port()}/0")
    scraped = scrape(TestClient(create_app(gone)))
    assert value(scraped, "digest_scrape_source_up", source="redis") == 0
    assert not labelled(scraped, "digest_queue_depth_tasks", "queue")
    assert labelled(scraped, "digest_editions", "status")["sent"] == 0


def test_a_database_out_of_reach_is_said_not_hidden(tmp_path):
    settings = make_settings(tmp_path, f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/none")
    scraped = scrape(TestClient(create_app(settings)))
    assert value(scraped, "digest_scrape_source_up", source="database") == 0
    assert not labelled(scraped, "digest_editions", "status")


def test_with_a_token_set_a_scrape_must_carry_it(tmp_path, sqlite_settings):
    token = "scrape-token-0123456789abcdef"
    client = TestClient(create_app(make_settings(tmp_path, sqlite_settings.database_url, metrics_token=token)))
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {token}"},
                    {"Authorization": f"Bearer {token}x"}):
        refused = client.get("/metrics", headers=headers)
        assert refused.status_code == 401, headers
        assert refused.headers["www-authenticate"] == "Bearer"
        assert "digest_" not in refused.text
    scraped = scrape(client, Authorization=f"Bearer {token}")
    assert "sent" in labelled(scraped, "digest_editions", "status")


def test_feed_fetches_are_counted_by_outcome(sqlite_settings, sqlite_session):
    # Loopback is refused to feeds by default: a fetch that fails without the network.
    source = Source(name="Intranet", url=f"http://127.0.0.1:{free_port()}/feed")
    sqlite_session.add(source)
    sqlite_session.commit()
    errors = REGISTRY.get_sample_value("digest_ingest_fetches_total", {"outcome": "error"}) or 0
    report = ingest_source(sqlite_session, source, sqlite_settings)
    assert report.error
    assert REGISTRY.get_sample_value("digest_ingest_fetches_total", {"outcome": "error"}) == errors + 1




def test_a_process_serves_its_own_metrics_and_a_taken_port_is_logged_not_fatal(caplog):
    port = free_port()
    server = metrics.serve("127.0.0.1", port, "worker-token")
    try:
        url = f"http://127.0.0.1:{port}/metrics"
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(url, timeout=5)
        assert refused.value.code == 401
        request = urllib.request.Request(url, headers={"Authorization": "Bearer worker-token"})
        with urllib.request.urlopen(request, timeout=5) as answer:
            assert "digest_relay_connections_open" in answer.read().decode()
        assert metrics.serve("127.0.0.1", port, "worker-token") is None
        assert f"metrics not served on 127.0.0.1:{port} (DIGEST_WORKER_METRICS_HOST, _PORT)" in caplog.text
    finally:
        server.shutdown()
        server.server_close()
