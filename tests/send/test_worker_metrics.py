"""A real Celery worker's pool processes serve their own metrics, each on its port, and log
the send's events as JSON lines, at INFO whatever Celery's --loglevel, without an address."""

from __future__ import annotations

import json
import math
import urllib.error
import urllib.request

import pytest
from sqlmodel import select

from digest.models import Subscriber
from tests.scrape import Samples, free_ports, labelled, samples, value
from tests.workers import celery_worker, wait_for

TOKEN = "worker-scrape-token-0123456789"
LIST = "morning-briefing"


def worker_scrape(port: int, token: str | None = TOKEN) -> Samples:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/metrics")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=5) as response:
        return samples(response.read().decode())


def reachable(port: int) -> bool:
    try:
        worker_scrape(port)
    except OSError:
        return False
    return True


def test_each_pool_process_serves_its_counts_and_logs_json(rig):
    port = free_ports(2)
    rig.env.update(DIGEST_WORKER_METRICS_PORT=str(port), DIGEST_METRICS_TOKEN=TOKEN,
                   DIGEST_LOG_FORMAT="json")
    readers = rig.eligible()
    # Celery's own default level, which used to hide every INFO line of the application.
    with celery_worker(rig.env, rig.log_dir / "worker.log", concurrency=2, loglevel="WARNING"):
        wait_for(lambda: reachable(port) and reachable(port + 1), timeout=30)
        with pytest.raises(urllib.error.HTTPError) as refused:
            worker_scrape(port, token=None)
        assert refused.value.code == 401
        rig.task("digest.start_send", rig.edition_id)
        rig.finish()
        scrapes = [worker_scrape(port), worker_scrape(port + 1)]
        # Both processes hold their relay connections between batches, and count them.
        wait_for(lambda: rig.sink.connections == sum(
            value(worker_scrape(p), "digest_relay_connections_open") for p in (port, port + 1)), timeout=10)

    def total(name: str, **labels: str) -> float:
        return sum(value(s, name, **labels) for s in scrapes)

    rig.assert_exactly_once()
    assert total("digest_messages_total", outcome="sent", list=LIST) == len(readers)
    assert total("digest_smtp_replies_total", **{"class": "2xx"}) == len(readers)
    assert total("digest_batch_duration_seconds_count") >= math.ceil(len(readers) / rig.settings.batch_size)
    # The deployment's gauges are the web's to serve, once, not every process's.
    assert not any(labelled(s, "digest_editions", "status") for s in scrapes)

    log = (rig.log_dir / "worker.log").read_text()
    lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    assert any("ready." in line["message"] for line in lines)
    events = [line for line in lines if "event" in line]
    started = [e for e in events if e["event"] == "send_started"]
    batches = [e for e in events if e["event"] == "batch_finished"]
    finished = [e for e in events if e["event"] == "send_finished"]
    assert [(e["edition"], e["list"], e["deliveries"]) for e in started] == [(rig.edition_id, LIST, len(readers))]
    assert sum(e["sent"] for e in batches) == len(readers)
    assert all(e["list"] == LIST and e["duration_seconds"] > 0 and e["level"] == "INFO" for e in batches)
    assert [(e["edition"], e["sent"]) for e in finished] == [(rig.edition_id, len(readers))]
    with rig.session() as session:
        addresses = session.exec(select(Subscriber.email)).all()
    assert not [address for address in addresses if address in log]
