"""The real `digest` command when what it depends on fails: a line or two naming the setting
and exit 1 (--debug: the traceback); output printed only after its transaction commits; and a
worker whose database is down logs one line per failed task."""

import os
import subprocess
import sys
import uuid

import pytest
import redis
from sqlmodel import Session, select
from typer.testing import CliRunner

from digest import migrate
from digest.cli import app
from digest.db import get_engine
from digest.models import Edition
from digest.settings import get_settings
from tests.conftest import make_settings
from tests.factories import approved_edition, sample_world
from tests.smtp_server import free_port
from tests.workers import celery_worker, digest_env, wait_for


def digest(*args: str, timeout: float = 60, **settings) -> subprocess.CompletedProcess:
    env = digest_env(**{"secret_key": "test-secret", **settings})
    return subprocess.run([sys.executable, "-m", "digest.cli", *args], env=env,
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def in_process(monkeypatch):
    """The same command run in this process (Typer's CliRunner): quicker than a subprocess."""
    def run(*args: str, **settings) -> subprocess.CompletedProcess:
        for name in [name for name in os.environ if name.startswith("DIGEST_")]:
            monkeypatch.delenv(name)
        for name, value in {"environment": "development", "secret_key": "test-secret", **settings}.items():
            monkeypatch.setenv(f"DIGEST_{name.upper()}", value)
        get_settings.cache_clear()
        try:
            result = CliRunner().invoke(app, list(args))
        finally:
            get_settings.cache_clear()
        return subprocess.CompletedProcess(args, result.exit_code, result.stdout, result.stderr)
    return run


def closed_postgres() -> str:
    return f"postgresql+psycopg://digest:hunter2@127.0.0.1:{free_port()}/digest"


def short_error(result: subprocess.CompletedProcess, *names: str) -> str:
    assert result.returncode == 1, result
    lines = result.stderr.strip().splitlines()
    assert 1 <= len(lines) <= 3 and all(line.startswith("error: ") for line in lines), result.stderr
    assert result.stdout == ""
    for name in names:
        assert name in result.stderr
    return result.stderr


@pytest.mark.parametrize("command", [
    ("editions", "list"), ("sources", "list"), ("send", "status", "1"), ("db", "upgrade"),
    ("users", "list"), ("ingest",),
])
def test_a_database_that_is_down_is_one_line_for_every_command(in_process, command):
    error = short_error(in_process(*command, database_url=closed_postgres()), "DIGEST_DATABASE_URL",
                        "127.0.0.1", "Connection refused")
    assert "hunter2" not in error  # the password is masked


def test_the_installed_command_too():
    """Through `python -m digest.cli` (the console script's path), not only Typer's runner."""
    short_error(digest("editions", "list", database_url=closed_postgres()), "DIGEST_DATABASE_URL")


@pytest.mark.parametrize("command", [("editions", "list"), ("lists", "list"), ("send", "status", "1")])
def test_an_unmigrated_database_says_to_run_db_upgrade(in_process, tmp_path, postgres_database, command):
    short_error(in_process(*command, database_url=f"sqlite:///{tmp_path / 'new.db'}"),
                "run `digest db upgrade`")
    # PostgreSQL: the same hint (a database with no tables: the admin database `postgres`).
    admin = postgres_database.rsplit("/", 1)[0] + "/postgres"
    short_error(in_process(*command, database_url=admin), "run `digest db upgrade`")


def test_a_bad_setting_names_it_and_never_shows_its_value():
    result = digest("editions", "list", smtp_port="twenty-five", public_url="ftp://x.example")
    error = short_error(result, "DIGEST_SMTP_PORT", "DIGEST_PUBLIC_URL")
    assert "twenty-five" not in error
    secret = digest("sources", "list", environment="production", secret_key="short-and-secret")
    assert "short-and-secret" not in short_error(secret, "DIGEST_SECRET_KEY")


def test_a_broker_that_is_down_is_one_line_and_nothing_changes(in_process, tmp_path, redis_url):
    url = f"sqlite:///{tmp_path / 'd.db'}"
    migrate.upgrade(url)
    settings = make_settings(tmp_path, url)
    with Session(get_engine(url), expire_on_commit=False) as session:
        sample_world(session, settings)
    broker = f"redis://127.0.0.1:{free_port()}/0"
    built = in_process("editions", "build", "--list", "morning-briefing", database_url=url)
    edition_id = built.stdout.split()[1]
    in_process("editions", "approve", edition_id, database_url=url)
    short_error(digest("send", "start", edition_id, database_url=url, broker_url=broker),
                "DIGEST_BROKER_URL", f"127.0.0.1:{broker.split(':')[2].split('/')[0]}")
    with Session(get_engine(url)) as session:
        assert session.get(Edition, int(edition_id)).status == "approved"
    # Redis for the rate limits and counters (DIGEST_REDIS_URL) is named when it is the one down.
    redis_down = broker.replace("/0", "/1")
    short_error(in_process("send", "start", edition_id, database_url=url, broker_url=redis_url,
                       redis_url=redis_down), "DIGEST_REDIS_URL")
    with Session(get_engine(url)) as session:
        assert session.get(Edition, int(edition_id)).status == "approved"
    both = short_error(in_process("send", "start", edition_id, database_url=url, broker_url=broker,
                                  redis_url=redis_down), "DIGEST_BROKER_URL", "DIGEST_REDIS_URL")
    assert len(both.splitlines()) == 2
    in_process("sources", "add", "https://feeds.example.org/rss", database_url=url)
    short_error(in_process("ingest", database_url=url, broker_url=broker), "DIGEST_BROKER_URL")


def test_debug_shows_the_traceback():
    result = digest("--debug", "editions", "list", database_url=closed_postgres())
    assert result.returncode == 1
    assert "Traceback" in result.stderr and "OperationalError" in result.stderr
    assert len(result.stderr.splitlines()) > 10


def test_a_reader_that_went_away_does_not_undo_the_build(tmp_path):
    """`digest editions build ... | head -2` rolled the draft back after printing it: the
    print raised BrokenPipeError inside the transaction."""
    url = f"sqlite:///{tmp_path / 'd.db'}"
    migrate.upgrade(url)
    with Session(get_engine(url), expire_on_commit=False) as session:
        sample_world(session, make_settings(tmp_path, url))
    reader, writer = os.pipe()
    os.close(reader)  # the reader is gone before the first line: every write fails
    try:
        result = subprocess.run([sys.executable, "-m", "digest.cli", "editions", "build",
                                 "--list", "tech-and-science"], stdout=writer, stderr=subprocess.PIPE,
                                env=digest_env(database_url=url, secret_key="test-secret"),
                                text=True, timeout=60)
    finally:
        os.close(writer)
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    with Session(get_engine(url)) as session:
        (edition,) = session.exec(select(Edition)).all()
        assert edition.status == "draft"


def test_a_worker_whose_database_is_down_logs_one_line_per_failed_task(tmp_path, redis_url):
    queue = f"digest-test-{uuid.uuid4().hex[:8]}"
    env = digest_env(database_url=closed_postgres(), broker_url=redis_url, celery_queue=queue,
                     secret_key="test-secret")
    log = tmp_path / "worker.log"
    from celery import Celery

    sender = Celery(broker=redis_url)
    try:
        with celery_worker(env, log):
            for _ in range(2):
                sender.send_task("digest.reconcile", queue=queue)
            wait_for(lambda: log.read_text().count("task digest.reconcile failed") == 2, timeout=60)
    finally:
        redis.Redis.from_url(redis_url).delete(queue)
    text = log.read_text()
    assert "Traceback" not in text
    failures = [line for line in text.splitlines() if "task digest.reconcile failed" in line]
    assert all("cannot use the database" in line and "DIGEST_DATABASE_URL" in line for line in failures)


def test_a_relay_that_is_down_names_the_smtp_settings(in_process, tmp_path):
    url = f"sqlite:///{tmp_path / 'd.db'}"
    migrate.upgrade(url)
    with Session(get_engine(url), expire_on_commit=False) as session:
        edition = approved_edition(session, sample_world(session, make_settings(tmp_path, url))["morning-briefing"])
    relay = dict(database_url=url, mail_backend="smtp", smtp_host="127.0.0.1", smtp_port=str(free_port()),
                 smtp_timeout="2", data_dir=str(tmp_path / "var"))
    short_error(in_process("send", "start", str(edition.id), "--test-to", "editor@example.org", **relay),
                "cannot connect to 127.0.0.1", "DIGEST_SMTP_HOST", "DIGEST_SMTP_PORT")
    # A real send defers its rows and says why, with what to check, where ops look.
    in_process("send", "start", str(edition.id), **relay)
    status = in_process("send", "status", str(edition.id), **relay)
    assert "relay unreachable since" in status.stdout and "check DIGEST_SMTP_HOST" in status.stdout
