"""A web app over a migrated SQLite database with the sample lists, sending through a real
SMTP server on loopback. Transactional mail leaves the request through the notice queue,
so tests wait for it to arrive."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from digest.sample import load_lists_and_subscribers
from digest.web.app import create_app
from tests.conftest import make_settings
from tests.smtp_server import SMTPSink
from tests.workers import wait_for


@pytest.fixture
def web_settings(tmp_path, sqlite_settings, sqlite_session, smtp_server):
    load_lists_and_subscribers(sqlite_session)
    sqlite_session.commit()
    return make_settings(tmp_path, sqlite_settings.database_url, mail_backend="smtp",
                         smtp_port=smtp_server.port, public_url="http://testserver")


@pytest.fixture
def client(web_settings):
    with TestClient(create_app(web_settings)) as client:
        yield client


def form_token(client: TestClient, path: str) -> str:
    page = client.get(path)
    assert page.status_code == 200
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def sign_up(client: TestClient, slug: str = "tech-and-science", **fields):
    data = {"csrf_token": form_token(client, f"/subscribe/{slug}"), **fields}
    return client.post(f"/subscribe/{slug}", data=data)


def arrived(smtp_server: SMTPSink, count: int) -> list:
    """The first `count` mails the server received, once they have."""
    wait_for(lambda: len(smtp_server.messages) >= count, timeout=30, interval=0.05)
    return smtp_server.messages[:count]
