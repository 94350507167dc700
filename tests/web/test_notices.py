"""Transactional mail leaves the request: sign-up answers at once, the same way, whatever
the relay does, and the confirmation follows once the relay is back. In-process (the
notice thread of the embedded mode) and through a real Celery worker."""

import logging
import socket
import time
import uuid
from contextlib import contextmanager

from fastapi.testclient import TestClient
from sqlmodel import select

from digest.models import Subscriber
from digest.subscribers import manage
from digest.web.app import create_app
from tests.conftest import make_settings
from tests.web.conftest import arrived, sign_up
from tests.workers import celery_worker, digest_env, wait_for

KNOWN = "ada.lovelace@example.com"      # active in the sample data


@contextmanager
def hanging_relay(port: int):
    """A relay that takes the connection and never says a word."""
    with socket.socket() as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", port))
        listener.listen(8)
        yield


def timed(call, *args, **kwargs):
    start = time.monotonic()
    return call(*args, **kwargs), time.monotonic() - start


def test_a_hanging_then_absent_relay_never_shows_in_the_answer(tmp_path, web_settings, smtp_server, caplog):
    caplog.set_level(logging.INFO, logger="digest.notices")
    settings = make_settings(tmp_path, web_settings.database_url, mail_backend="smtp",
                             smtp_port=smtp_server.port, smtp_timeout=3, public_url="http://testserver")
    smtp_server.down()
    with TestClient(create_app(settings)) as client:
        with hanging_relay(smtp_server.port):
            new, new_took = timed(sign_up, client, email="newcomer@example.org")
            known, known_took = timed(sign_up, client, email=KNOWN)
            wait_for(lambda: "retry 1 in" in caplog.text, timeout=20, interval=0.05)
        again = sign_up(client, email="newcomer@example.org")            # refused at the port now
    assert new.status_code == known.status_code == again.status_code == 200
    assert new.text == known.text == again.text
    # Neither answer waited for the relay: a send in the request would take the SMTP timeout.
    assert new_took < settings.smtp_timeout and known_took < settings.smtp_timeout
    assert smtp_server.messages == []
    smtp_server.up()
    assert [m["To"] for m in arrived(smtp_server, 2)] == ["newcomer@example.org"] * 2


def test_with_a_broker_a_celery_worker_sends_retries_and_skips_who_is_gone(
        tmp_path, web_settings, smtp_server, redis_url, sqlite_session):
    values = dict(database_url=web_settings.database_url, broker_url=redis_url,
                  celery_queue=f"digest-test-{uuid.uuid4().hex[:8]}", mail_backend="smtp",
                  smtp_port=smtp_server.port, smtp_timeout=5, public_url="http://testserver",
                  secret_key="test-secret", from_email="Example Daily <daily@news.example.org>")
    settings = make_settings(tmp_path, **values)
    log = tmp_path / "worker.log"
    smtp_server.down()
    with celery_worker(digest_env(**values), log), TestClient(create_app(settings)) as client:
        answers = [client.post("/api/lists/tech-and-science/subscribe", json={"email": email})
                   for email in ("kept@example.org", "gone@example.org", KNOWN)]
        assert {a.status_code for a in answers} == {202} and len({a.text for a in answers}) == 1
        wait_for(lambda: log.read_bytes().count(b"Retry in") >= 2, timeout=30)
        gone = sqlite_session.exec(select(Subscriber).where(Subscriber.email == "gone@example.org")).one()
        manage.erase(sqlite_session, gone.id)          # before the relay is back: nothing for them
        # Its next try sees that; a try already under way meanwhile only met the relay down.
        wait_for(lambda: b"confirm mail to subscriber %d no longer due" % gone.id in log.read_bytes(),
                 timeout=60)
        smtp_server.up()
        assert [m["To"] for m in arrived(smtp_server, 1)] == ["kept@example.org"]
    assert smtp_server.recipients() == ["kept@example.org"]
