"""Shared fixtures: settings built per test, databases on SQLite and PostgreSQL, and a real
SMTP server. Services the machine runs (PostgreSQL, Redis) are used when reachable; with
DIGEST_TEST_REQUIRE_SERVICES=1 (as CI sets) a missing one fails the run instead of skipping."""

from __future__ import annotations

import logging
import os
import socket
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import create_engine, text
from sqlmodel import Session, SQLModel

from digest import migrate
from digest.db import get_engine
from digest.settings import Settings

from tests.smtp_server import SMTPSink

POSTGRES_ADMIN_URL = os.environ.get(
    "DIGEST_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("DIGEST_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
REQUIRE_SERVICES = os.environ.get("DIGEST_TEST_REQUIRE_SERVICES") == "1"


def need_service(name: str, reachable: bool) -> None:
    if reachable:
        return
    message = f"{name} is not reachable"
    if REQUIRE_SERVICES:
        pytest.fail(f"{message} and DIGEST_TEST_REQUIRE_SERVICES=1")
    pytest.skip(message)


def port_open(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname, parts.port or default_port), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session", autouse=True)
def development_environment():
    """The tests use the placeholder secret and example addresses, as `make demo` does: only
    an explicit development environment accepts them (production is the default)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DIGEST_ENVIRONMENT", "development")
        yield


@pytest.fixture(autouse=True)
def no_log_handler_left_behind():
    """A command run in-process sets up logging for the whole process (digest.logs); take
    it down after the test, or a server thread's late records reach the terminal."""
    yield
    from digest import logs

    if logs._handler is not None:
        logging.getLogger().removeHandler(logs._handler)
        logs._handler = None


def make_settings(tmp_path: Path, database_url: str, **overrides) -> Settings:
    values = dict(
        environment="development", database_url=database_url, mail_backend="memory", outbox_dir=tmp_path / "outbox",
        data_dir=tmp_path / "var", public_url="https://news.example.org",
        from_email="Example Daily <daily@news.example.org>", secret_key="test-secret",
    )
    values.update(overrides)
    return Settings(_env_file=None, **values)


@pytest.fixture(scope="session")
def postgres_database() -> str:
    """A fresh, migrated PostgreSQL database for this test session, dropped at the end."""
    need_service("PostgreSQL", port_open(POSTGRES_ADMIN_URL, 5432))
    name = f"digest_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    migrate.upgrade(url)
    yield url
    get_engine(url).dispose()
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _truncate(url: str) -> None:
    engine = get_engine(url)
    tables = [t.name for t in SQLModel.metadata.sorted_tables]
    with engine.begin() as connection:
        connection.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables)
                                + " RESTART IDENTITY CASCADE"))


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request, tmp_path) -> str:
    """Each data-layer test runs on both backends, each time on an empty, migrated schema."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'digest.db'}"
        migrate.upgrade(url)
        yield url
        get_engine(url).dispose()
    else:
        url = request.getfixturevalue("postgres_database")
        _truncate(url)
        yield url


@pytest.fixture
def settings(tmp_path, database_url) -> Settings:
    return make_settings(tmp_path, database_url)


@pytest.fixture
def session(settings):
    with Session(get_engine(settings.database_url), expire_on_commit=False) as session:
        yield session


@pytest.fixture
def sqlite_settings(tmp_path) -> Settings:
    """For tests whose subject does not depend on the database backend."""
    url = f"sqlite:///{tmp_path / 'digest.db'}"
    migrate.upgrade(url)
    yield make_settings(tmp_path, url)
    get_engine(url).dispose()


@pytest.fixture
def sqlite_session(sqlite_settings):
    with Session(get_engine(sqlite_settings.database_url), expire_on_commit=False) as session:
        yield session


@pytest.fixture
def smtp_server():
    """A real SMTP server (aiosmtpd) on a free loopback port, stopped after the test."""
    sink = SMTPSink()
    sink.start()
    yield sink
    sink.stop()


CHROMIUM = os.environ.get("DIGEST_TEST_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


@pytest.fixture(scope="session")
def browser():
    """Debian's headless Chromium driven by Playwright (flags as this machine needs them)."""
    need_service("Chromium", Path(CHROMIUM).exists())
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        yield chromium
        chromium.close()


@pytest.fixture
def feed_server():
    """A real HTTP server on loopback answering what each test registers (tests/ingest/feed_server.py)."""
    from tests.ingest.feed_server import FeedServer
    server = FeedServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def artifacts() -> Path:
    """Where tests save screenshots for people to look at (test-artifacts/, not committed)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def redis_url() -> str:
    need_service("Redis", port_open(REDIS_URL, 6379))
    return REDIS_URL
