"""Worlds for the bounce tests: an edition sent with VERP on (:func:`sent`), and the real web
app over a migrated database with the sample subscribers for the provider webhooks, where
what a post changed is read back from the database (:meth:`HookWorld.snapshot`)."""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from digest.bounces import verp
from digest.db import get_engine
from digest.mail.backends.memory import MemoryBackend
from digest.models import Feedback, Subscriber, Suppression
from digest.sample import load_lists_and_subscribers
from digest.send.service import send_inline
from digest.subscribers.suppression import email_hash
from digest.web.app import create_app
from tests.conftest import make_settings
from tests.factories import approved_edition, sample_world


class Sent:
    """The sample world with one edition of the morning list sent (to memory), VERP on."""

    def __init__(self, session, settings, edition, lists, outbox):
        self.session, self.settings, self.edition, self.lists = session, settings, edition, lists
        self.outbox = outbox

    def subscriber(self, email: str) -> Subscriber:
        return self.session.exec(select(Subscriber).where(Subscriber.email == email)).one()

    def return_path(self, email: str) -> str:
        """The envelope sender the edition's message to `email` went out with."""
        return next(m.sender for m in self.outbox if m.recipient == email)


@pytest.fixture
def sent(session, settings, tmp_path):
    settings = make_settings(tmp_path, settings.database_url, bounce_address="bounces@news.example.org")
    lists = sample_world(session, settings)
    edition = approved_edition(session, lists["morning-briefing"])
    backend = MemoryBackend()
    send_inline(session, settings, backend, edition.id)
    assert all(verp.read(settings.secret_key, m.sender) for m in backend.outbox)
    return Sent(session, settings, edition, lists, backend.outbox)


@dataclass
class HookWorld:
    database_url: str
    tmp_path: Path
    stack: ExitStack

    def client(self, **settings) -> TestClient:
        """The app with these settings (a provider's secret, say), for this test."""
        app = create_app(make_settings(self.tmp_path, self.database_url, **settings))
        return self.stack.enter_context(TestClient(app))

    def snapshot(self) -> tuple[list[tuple], dict[str, str]]:
        """Every feedback row (kind, address hash, source, report key, status) and every
        suppression (address hash -> reason)."""
        with Session(get_engine(self.database_url)) as session:
            rows = session.exec(select(Feedback).order_by(Feedback.id)).all()
            suppressed = session.exec(select(Suppression)).all()
            return ([(r.kind, r.email_hash, r.source, r.report_key, r.status) for r in rows],
                    {s.email_hash: s.reason for s in suppressed})

    def suppression(self, address: str) -> str | None:
        return self.snapshot()[1].get(email_hash(address))

    def kinds(self) -> list[tuple[str, str]]:
        """(kind, address hash) of every feedback row, in order."""
        return [(kind, hashed) for kind, hashed, *_ in self.snapshot()[0]]


def _world(database_url: str, tmp_path: Path):
    with Session(get_engine(database_url)) as session:
        load_lists_and_subscribers(session)
        session.commit()
    with ExitStack() as stack:
        yield HookWorld(database_url, tmp_path, stack)


@pytest.fixture
def world(database_url, tmp_path):
    """On SQLite and on PostgreSQL."""
    yield from _world(database_url, tmp_path)


@pytest.fixture
def sqlite_world(sqlite_settings, tmp_path):
    yield from _world(sqlite_settings.database_url, tmp_path)


def h(address: str) -> str:
    return email_hash(address)
