"""Double opt-in through the service functions, on both databases."""

import pytest
from sqlmodel import select

from digest.mail.backends.memory import MemoryBackend
from digest.models import Subscriber, Subscription
from digest.subscribers.addresses import BadAddress
from digest.subscribers.signup import SignUpOutcome, confirm, sign_up
from digest.subscribers.suppression import suppress
from digest.subscribers.tokens import InvalidToken, Purpose, make_token
from tests.conftest import make_settings
from tests.subscribers.helpers import link, parsed, path_of, text_of


def status_of(session, email):
    subscriber = session.exec(select(Subscriber).where(Subscriber.email == email)).one()
    return session.exec(select(Subscription.status).where(
        Subscription.subscriber_id == subscriber.id)).one()


def test_fifty_sign_ups_send_at_most_the_configured_confirmations(session, settings, news, tmp_path):
    settings = make_settings(tmp_path, settings.database_url, confirmations_per_day=3)
    backend = MemoryBackend()
    outcomes = [sign_up(session, settings, backend, list_slug="news", email=" Ann@Example.ORG ")
                for _ in range(50)]
    assert len(backend.outbox) == 3
    assert outcomes.count(SignUpOutcome.CONFIRMATION_SENT) == 3
    assert outcomes.count(SignUpOutcome.LIMITED) == 47
    assert {m.recipient for m in backend.outbox} == {"ann@example.org"}
    assert status_of(session, "ann@example.org") == "pending"


def test_confirm_activates_welcomes_once_and_keeps_only_list_topics(session, settings, news):
    backend = MemoryBackend()
    sign_up(session, settings, backend, list_slug="news", email="bo@example.org", name="Bo",
            topics=["science", "gossip"])
    token = path_of(link(backend.outbox[0], "confirm")).rsplit("/", 1)[1]
    assert confirm(session, settings, backend, token).newly
    assert not confirm(session, settings, backend, token).newly
    assert status_of(session, "bo@example.org") == "active"
    assert [parsed(m)["Subject"] for m in backend.outbox] == [
        "Confirm your subscription to The News", "Welcome to The News"]
    assert "Hi Bo," in text_of(backend.outbox[1])
    assert session.exec(select(Subscription.topics)).one() == ["science"]


def test_an_active_address_gets_nothing_new(session, settings, news):
    backend = MemoryBackend()
    sign_up(session, settings, backend, list_slug="news", email="cy@example.org", name="Cy")
    confirm(session, settings, backend, path_of(link(backend.outbox[0], "confirm")).rsplit("/", 1)[1])
    sent = len(backend.outbox)
    outcome = sign_up(session, settings, backend, list_slug="news", email="cy@example.org",
                      name="Someone Else")
    assert outcome == SignUpOutcome.ALREADY_ACTIVE
    assert len(backend.outbox) == sent
    assert session.exec(select(Subscriber.name)).one() == "Cy"   # a stranger cannot rename


def test_the_confirmation_carries_no_user_text_but_the_address(session, settings, news):
    backend = MemoryBackend()
    sign_up(session, settings, backend, list_slug="news", email="dee@example.org",
            name="Visit http://spam.example now")
    mail = parsed(backend.outbox[0])
    assert "spam" not in mail.as_string()
    assert mail["To"] == "dee@example.org"


def test_bounced_addresses_are_never_mailed_and_bad_ones_refused(session, settings, news):
    backend = MemoryBackend()
    suppress(session, "gone@example.org", "bounce")
    session.commit()
    assert sign_up(session, settings, backend, list_slug="news",
                   email="gone@example.org") == SignUpOutcome.SUPPRESSED
    assert backend.outbox == []
    with pytest.raises(BadAddress):
        sign_up(session, settings, backend, list_slug="news", email="not an address")


def test_confirm_refuses_tokens_for_other_purposes(session, settings, news):
    backend = MemoryBackend()
    sign_up(session, settings, backend, list_slug="news", email="eve@example.org")
    subscriber = session.exec(select(Subscriber)).one()
    unsubscribe_token = make_token(settings.secret_key, Purpose.UNSUBSCRIBE, subscriber.id, news.id)
    with pytest.raises(InvalidToken):
        confirm(session, settings, backend, unsubscribe_token)
    assert status_of(session, "eve@example.org") == "pending"
