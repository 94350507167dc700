import pytest
from sqlmodel import select

from digest.bounces import verp
from digest.mail.backends.memory import MemoryBackend
from digest.models import Subscriber
from digest.send.service import send_inline
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
