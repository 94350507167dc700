"""The logs of sign-ups and a send, as shipped (JSON lines on stderr, here at DEBUG): the
events with their fields, and no address anywhere, not even where a relay's reply, logged
as the reason a mail failed, echoes the recipient."""

from __future__ import annotations

import json
import logging

import pytest
from sqlmodel import Session, select

from digest import logs
from digest.db import get_engine
from digest.mail.backends import get_backend
from digest.models import Edition, EditionStatus, Subscriber, Suppression
from digest.send.service import send_inline
from tests.factories import active_emails, approved_edition, sample_world
from tests.web.conftest import arrived, sign_up
from tests.workers import wait_for

LIST = "tech-and-science"


@pytest.fixture
def shipped_logs(capsys):
    """What the handler writes to stderr, read on demand."""
    root = logging.getLogger()
    level = root.level
    handler = logs.configure(logs.LogSettings(_env_file=None, log_level="DEBUG", log_format="json"))
    yield lambda: capsys.readouterr().err
    root.removeHandler(handler)
    root.setLevel(level)


def echo(address: str) -> str:
    return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"


def test_sign_ups_and_a_send_log_their_events_and_no_address(client, web_settings, smtp_server, shipped_logs):
    newcomer, gone = "newcomer@example.org", "gone.reader@example.org"
    smtp_server.refuse[gone] = echo(gone)
    sign_up(client, email=newcomer)
    sign_up(client, email=gone)
    arrived(smtp_server, 1)

    def session() -> Session:
        return Session(get_engine(web_settings.database_url), expire_on_commit=False)

    # The refused confirmation bounced (and suppressed the address) in the notice thread.
    wait_for(lambda: session().exec(select(Suppression)).all(), timeout=30)
    with session() as s:
        edition = approved_edition(s, sample_world(s, web_settings)[LIST])
        readers = sorted(active_emails(s, sample_world(s, web_settings)[LIST]))
    smtp_server.refuse[readers[0]] = echo(readers[0])
    with session() as s:
        send_inline(s, web_settings, get_backend(web_settings), edition.id)
        assert s.get(Edition, edition.id).status == EditionStatus.SENT
        addresses = s.exec(select(Subscriber.email)).all()

    shipped = shipped_logs()
    lines = [json.loads(line) for line in shipped.splitlines()]
    signups = [line for line in lines if line.get("event") == "signup"]
    assert [(e["list"], e["outcome"]) for e in signups] == [(LIST, "confirmation queued")] * 2
    assert all(isinstance(e["subscriber"], int) for e in signups)
    (batch,) = [line for line in lines if line.get("event") == "batch_finished"]
    assert (batch["sent"], batch["bounced"]) == (len(readers) - 1, 1)
    assert [line["edition"] for line in lines if line.get("event") == "send_finished"] == [edition.id]
    # The reason the confirmation failed is there, with the address the relay echoed scrubbed.
    assert any("550 5.1.1 <<address>>: Recipient address rejected" in line["message"] for line in lines)
    assert {newcomer, gone} <= set(addresses)
    assert not [address for address in addresses if address in shipped]
