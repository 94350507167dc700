"""An edition of the sample morning list really sent: through the real SMTP server on
loopback, on SQLite and PostgreSQL, and the web app that serves its links."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlmodel import Session, select

from digest.db import get_engine
from digest.mail.backends import get_backend
from digest.models import Click, Delivery, DigestList, Edition, Story, Subscriber
from digest.send.service import send_inline
from digest.web.app import create_app
from tests.conftest import make_settings
from tests.factories import approved_edition, sample_world

_HREF = re.compile(r'href="(https://news\.example\.org/r/[^"]+)"')


def story_of(link: str) -> int:
    """The story id a tracked link names."""
    return int(urlsplit(link).path.rsplit("/", 1)[1].split(".")[1])


@dataclass
class SentEdition:
    session: Session
    edition: Edition
    mails: list[EmailMessage]
    client: TestClient

    def mail_to(self, email: str) -> EmailMessage:
        return next(m for m in self.mails if m["To"].addresses[0].addr_spec == email)

    def html_links(self, email: str) -> list[str]:
        """The tracked links of the mail's HTML part, in order, each once."""
        html = self.mail_to(email).get_body(("html",)).get_content()
        return list(dict.fromkeys(_HREF.findall(html)))

    def text(self, email: str) -> str:
        return self.mail_to(email).get_body(("plain",)).get_content()

    def follow(self, url: str, method: str = "GET", agent: str = "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0"):
        return self.client.request(method, urlsplit(url).path, follow_redirects=False,
                                   headers={"user-agent": agent, "accept": "text/html"})

    def subscriber(self, email: str) -> Subscriber:
        return self.session.exec(select(Subscriber).where(Subscriber.email == email)).one()

    def clicks(self) -> list[Click]:
        self.session.expire_all()
        return self.session.exec(select(Click).order_by(Click.id)).all()

    def story_urls(self) -> dict[int, str]:
        return dict(self.session.exec(select(Story.id, Story.url)).all())

    def sent_ago(self, seconds: float) -> None:
        """As if the edition's messages had gone out `seconds` ago."""
        sent = self.session.exec(select(Delivery.sent_at).where(Delivery.edition_id == self.edition.id)).first()
        self.session.execute(update(Delivery).where(Delivery.edition_id == self.edition.id)
                             .values(sent_at=sent - timedelta(seconds=seconds)))
        self.session.commit()


def send_edition(tmp_path, database_url, smtp_server, *, list_tracks=True, **overrides) -> SentEdition:
    settings = make_settings(tmp_path, database_url, mail_backend="smtp", smtp_port=smtp_server.port,
                             **overrides)
    session = Session(get_engine(database_url), expire_on_commit=False)
    morning = sample_world(session, settings)["morning-briefing"]
    if not list_tracks:
        session.execute(update(DigestList).where(DigestList.id == morning.id).values(track_clicks=False))
        session.commit()
    edition = approved_edition(session, morning)
    report = send_inline(session, settings, get_backend(settings), edition.id)
    assert report.outcomes.get("sent"), report
    return SentEdition(session, edition, list(smtp_server.messages), TestClient(create_app(settings)))


@pytest.fixture
def sent(tmp_path, database_url, smtp_server):
    world = send_edition(tmp_path, database_url, smtp_server)
    yield world
    world.session.close()
