"""`digest send` with a broker configured (the real Redis, no worker): what can be checked
here is checked before anything is queued, and a refusal is an error, not "queued"."""

import json
import uuid

import pytest
import redis
from sqlmodel import Session
from typer.testing import CliRunner

from digest.cli import app
from digest.curate.editions import build_draft, todays_slot
from digest.db import get_engine
from digest.mail.backends.memory import MemoryBackend
from digest.models import Edition
from digest.send.service import send_inline
from digest.settings import get_settings
from tests.factories import approved_edition, sample_world


@pytest.fixture
def broker(sqlite_settings, redis_url, monkeypatch):
    """The CLI's environment: the test database and the real Redis as broker, on a queue of
    its own. Yields (run, queued): run the CLI; the task names waiting in the queue."""
    queue = f"digest-test-{uuid.uuid4().hex[:8]}"
    for name, value in {"DATABASE_URL": sqlite_settings.database_url, "BROKER_URL": redis_url,
                        "CELERY_QUEUE": queue, "MAIL_BACKEND": "memory",
                        "SECRET_KEY": "test-secret", "PUBLIC_URL": sqlite_settings.public_url,
                        "FROM_EMAIL": sqlite_settings.from_email}.items():
        monkeypatch.setenv(f"DIGEST_{name}", value)
    get_settings.cache_clear()
    client = redis.Redis.from_url(redis_url)
    runner = CliRunner()

    def queued() -> list[str]:
        return [json.loads(m)["headers"]["task"] for m in client.lrange(queue, 0, -1)]

    yield (lambda *args: runner.invoke(app, [str(a) for a in args])), queued
    client.delete(queue, *client.keys(f"digest:{queue}:*"))
    get_settings.cache_clear()


def test_no_such_edition_is_an_error_and_nothing_is_queued(broker):
    run, queued = broker
    result = run("send", "start", 999)
    assert result.exit_code == 1 and result.output.strip() == "error: no edition 999"
    assert queued() == []


def test_a_draft_is_refused_and_nothing_is_queued(broker, sqlite_session, sqlite_settings):
    run, queued = broker
    tech = sample_world(sqlite_session, sqlite_settings)["tech-and-science"]
    draft = build_draft(sqlite_session, tech, todays_slot(tech))
    sqlite_session.commit()
    result = run("send", "start", draft.id, "--wait")
    assert result.exit_code == 1
    assert result.output.strip() == f"error: edition {draft.id} is a draft: approve it first"
    assert queued() == []


def test_an_approved_edition_starts_here_and_only_its_batches_are_queued(broker, sqlite_session,
                                                                         sqlite_settings):
    run, queued = broker
    edition = approved_edition(sqlite_session, sample_world(sqlite_session, sqlite_settings)["morning-briefing"])
    result = run("send", "start", edition.id)
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"edition {edition.id}: send started, 1 batches queued"
    assert queued() == ["digest.send_batch"]
    with Session(get_engine(sqlite_settings.database_url)) as session:
        assert session.get(Edition, edition.id).status == "sending"
    again = run("send", "start", edition.id)
    assert again.exit_code == 1 and f"edition {edition.id} is already sending" in again.output
    assert queued() == ["digest.send_batch"]


def test_wait_on_a_sent_edition_reports_what_happened(broker, sqlite_session, sqlite_settings):
    run, queued = broker
    morning = sample_world(sqlite_session, sqlite_settings)["morning-briefing"]
    edition = approved_edition(sqlite_session, morning)
    sent = send_inline(sqlite_session, sqlite_settings, MemoryBackend(), edition.id).outcomes["sent"]
    result = run("send", "start", edition.id, "--wait")
    assert result.exit_code == 1
    assert result.output.strip() == (f"error: edition {edition.id} is sent and cannot be sent "
                                     f"(its deliveries: {sent} sent)")
    assert "#" not in result.output and queued() == []


def test_pause_resume_and_cancel_refuse_what_they_cannot_do(broker, sqlite_session, sqlite_settings):
    run, queued = broker
    edition = approved_edition(sqlite_session, sample_world(sqlite_session, sqlite_settings)["morning-briefing"])
    for verb in ("pause", "resume"):
        result = run("send", verb, edition.id)
        assert result.exit_code == 1
        assert result.output.strip() == f"error: cannot {verb} edition {edition.id}: it is approved"
    assert run("send", "retry-failed", edition.id).exit_code == 1
    assert run("send", "cancel", 999).output.strip() == "error: no edition 999"
    assert queued() == []


def test_wait_ends_with_the_real_counts_and_fails_unless_sent(broker, sqlite_session, sqlite_settings):
    run, queued = broker
    world = sample_world(sqlite_session, sqlite_settings)
    edition = approved_edition(sqlite_session, world["morning-briefing"])
    sent = send_inline(sqlite_session, sqlite_settings, MemoryBackend(), edition.id).outcomes["sent"]
    finished = run("send", "retry-failed", edition.id, "--wait")
    assert finished.exit_code == 0, finished.output
    assert finished.output.splitlines()[-1].startswith(
        f"edition {edition.id}: sent  total {sent}  sent {sent}")
    assert "[" not in finished.output  # no progress bar for a send that is over

    other = approved_edition(sqlite_session, world["tech-and-science"])
    assert run("send", "start", other.id).exit_code == 0
    assert run("send", "pause", other.id).exit_code == 0
    paused = run("send", "retry-failed", other.id, "--wait")
    assert paused.exit_code == 1
    assert paused.output.splitlines()[-1].startswith(f"edition {other.id}: paused  total ")
