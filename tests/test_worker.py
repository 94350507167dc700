"""An edition sent through a real Celery worker, real Redis and a real SMTP server."""

import subprocess
import sys
import uuid

from sqlmodel import Session

from digest.db import get_engine
from digest.models import Edition, EditionStatus
from tests.conftest import _truncate, make_settings
from tests.factories import active_emails, approved_edition, sample_world
from tests.workers import celery_worker, digest_env, wait_for


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
        # The CLI with a broker configured enqueues instead of sending in-process.
        queued = subprocess.run([sys.executable, "-m", "digest.cli", "send", "start", str(edition.id)],
                                env=env, capture_output=True, text=True, timeout=60)
        assert queued.returncode == 0, queued.stderr
        assert "queued" in queued.stdout
        wait_for(lambda: len(smtp_server.messages) >= len(expected), timeout=60)

        def finished():
            with Session(get_engine(postgres_database)) as session:
                return session.get(Edition, edition.id).status == EditionStatus.SENT
        wait_for(finished, timeout=30)

    assert sorted(smtp_server.recipients()) == sorted(expected)
    assert len(set(smtp_server.message_ids())) == len(expected)
