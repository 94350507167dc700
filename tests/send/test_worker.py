"""An edition sent through a real Celery worker, real Redis and a real SMTP server."""

import subprocess
import sys
import uuid

from sqlmodel import Session

from digest.db import get_engine
from digest.models import Edition, EditionStatus
from tests.conftest import _truncate, make_settings
from tests.factories import active_emails, approved_edition, sample_world
from tests.workers import celery_worker, digest_env


def test_an_edition_goes_out_through_a_celery_worker(tmp_path, postgres_database, redis_url, smtp_server):
    _truncate(postgres_database)
    queue = f"digest-test-{uuid.uuid4().hex[:8]}"
    values = dict(database_url=postgres_database, broker_url=redis_url, celery_queue=queue,
                  mail_backend="smtp", smtp_host="127.0.0.1", smtp_port=str(smtp_server.port),
                  public_url="https://news.example.org", secret_key="test-secret",
                  from_email="Example Daily <daily@news.example.org>", batch_size="5")
    settings = make_settings(tmp_path, **values)
    with Session(get_engine(postgres_database), expire_on_commit=False) as session:
        morning = sample_world(session, settings)["morning-briefing"]
        edition = approved_edition(session, morning)
        expected = active_emails(session, morning)
    env = digest_env(**values)

    with celery_worker(env, tmp_path / "worker.log", concurrency=2):
        # The CLI with a broker configured enqueues instead of sending in-process; --wait
        # follows the progress until the edition is sent.
        queued = subprocess.run([sys.executable, "-m", "digest.cli", "send", "start", "--wait",
                                 str(edition.id)], env=env, capture_output=True, text=True, timeout=120)
        assert queued.returncode == 0, queued.stderr
        assert "queued" in queued.stdout
        assert f"sent {len(expected)}" in queued.stdout and "left 0" in queued.stdout

    with Session(get_engine(postgres_database)) as session:
        assert session.get(Edition, edition.id).status == EditionStatus.SENT
    assert sorted(smtp_server.recipients()) == sorted(expected)
    assert len(set(smtp_server.message_ids())) == len(expected)


def test_queued_batches_are_counted_so_asking_again_queues_none(tmp_path, redis_url):
    import redis

    from digest.celery_app import batch_started, enqueue_batches

    settings = make_settings(tmp_path, f"sqlite:///{tmp_path / 'd.db'}", broker_url=redis_url,
                             celery_queue=f"digest-test-{uuid.uuid4().hex[:8]}")
    client = redis.Redis.from_url(redis_url)
    try:
        assert enqueue_batches(settings, 7, 3) == 3
        # The reconciler every minute, resume, an outage's follow-up: none adds to what waits.
        assert enqueue_batches(settings, 7, 3) == 0
        assert enqueue_batches(settings, 7, 1) == 0
        assert enqueue_batches(settings, 7, 5) == 2
        assert client.llen(settings.celery_queue) == 5
        # A batch that starts no longer counts as queued.
        (first, *_) = client.zrange(f"digest:{settings.celery_queue}:batches:7", 0, 0)
        batch_started(settings, 7, first.decode())
        assert enqueue_batches(settings, 7, 5) == 1
        assert enqueue_batches(settings, 8, 1) == 1  # another edition counts apart
    finally:
        client.delete(settings.celery_queue, f"digest:{settings.celery_queue}:batches:7",
                      f"digest:{settings.celery_queue}:batches:8")
