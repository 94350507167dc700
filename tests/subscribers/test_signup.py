"""Double opt-in through the service functions, on both databases."""

import pytest
from sqlmodel import select

from digest.models import Subscriber, Subscription
from digest.subscribers import manage
from digest.subscribers.addresses import BadAddress
from digest.subscribers.signup import SignUpOutcome, confirm, sign_up
from digest.subscribers.suppression import suppress
from digest.subscribers.tokens import InvalidToken, Purpose, make_token
from tests.conftest import make_settings
from tests.subscribers.helpers import SendNow, link, parsed, path_of, text_of


def status_of(session, email):
    subscriber = session.exec(select(Subscriber).where(Subscriber.email == email)).one()
    return session.exec(select(Subscription.status).where(
        Subscription.subscriber_id == subscriber.id)).one()


def test_fifty_sign_ups_send_at_most_the_configured_confirmations(session, settings, news, tmp_path):
    settings = make_settings(tmp_path, settings.database_url, confirmations_per_day=3)
    mail = SendNow(settings)
    outcomes = [sign_up(session, settings, mail, list_slug="news", email=" Ann@Example.ORG ")
                for _ in range(50)]
    assert len(mail.outbox) == 3
    assert outcomes.count(SignUpOutcome.CONFIRMATION_QUEUED) == 3
    assert outcomes.count(SignUpOutcome.LIMITED) == 47
    assert {m.recipient for m in mail.outbox} == {"ann@example.org"}
    assert status_of(session, "ann@example.org") == "pending"


def test_confirm_activates_welcomes_once_and_keeps_only_list_topics(session, settings, news):
    mail = SendNow(settings)
    sign_up(session, settings, mail, list_slug="news", email="bo@example.org", name="Bo",
            topics=["science", "gossip"])
    token = path_of(link(mail.outbox[0], "confirm")).rsplit("/", 1)[1]
    assert confirm(session, settings, mail, token).newly
    assert not confirm(session, settings, mail, token).newly
    assert status_of(session, "bo@example.org") == "active"
    assert [parsed(m)["Subject"] for m in mail.outbox] == [
        "Confirm your subscription to The News", "Welcome to The News"]
    assert "Hi Bo," in text_of(mail.outbox[1])
    assert session.exec(select(Subscription.topics)).one() == ["science"]


def test_an_active_address_gets_nothing_new(session, settings, news):
    mail = SendNow(settings)
    sign_up(session, settings, mail, list_slug="news", email="cy@example.org", name="Cy")
    confirm(session, settings, mail, path_of(link(mail.outbox[0], "confirm")).rsplit("/", 1)[1])
    sent = len(mail.outbox)
    outcome = sign_up(session, settings, mail, list_slug="news", email="cy@example.org",
                      name="Someone Else")
    assert outcome == SignUpOutcome.ALREADY_ACTIVE
    assert len(mail.outbox) == sent
    assert session.exec(select(Subscriber.name)).one() == "Cy"   # a stranger cannot rename


def test_the_confirmation_carries_no_user_text_but_the_address(session, settings, news):
    mail = SendNow(settings)
    sign_up(session, settings, mail, list_slug="news", email="dee@example.org",
            name="Visit http://spam.example now")
    confirmation = parsed(mail.outbox[0])
    assert "spam" not in confirmation.as_string()
    assert confirmation["To"] == "dee@example.org"


def test_bounced_addresses_are_never_mailed_and_bad_ones_refused(session, settings, news):
    mail = SendNow(settings)
    suppress(session, "gone@example.org", "bounce")
    session.commit()
    assert sign_up(session, settings, mail, list_slug="news",
                   email="gone@example.org") == SignUpOutcome.SUPPRESSED
    assert mail.outbox == []
    with pytest.raises(BadAddress):
        sign_up(session, settings, mail, list_slug="news", email="not an address")


def test_confirm_refuses_tokens_for_other_purposes(session, settings, news):
    mail = SendNow(settings)
    sign_up(session, settings, mail, list_slug="news", email="eve@example.org")
    subscriber = session.exec(select(Subscriber)).one()
    unsubscribe_token = make_token(settings.secret_key, Purpose.UNSUBSCRIBE, subscriber, news.id)
    with pytest.raises(InvalidToken):
        confirm(session, settings, mail, unsubscribe_token)
    assert status_of(session, "eve@example.org") == "pending"


def test_an_erased_persons_confirmation_cannot_confirm_whoever_gets_the_id(session, settings, news):
    mail = SendNow(settings)
    sign_up(session, settings, mail, list_slug="news", email="ann@example.org")
    stale = path_of(link(mail.outbox[0], "confirm")).rsplit("/", 1)[1]
    ann_id = session.exec(select(Subscriber.id)).one()
    manage.erase(session, ann_id)
    # SQLite gave the newest row's id to the next one; PostgreSQL may too after a restore.
    session.add(Subscriber(id=ann_id, email="bob@example.org"))
    session.commit()
    sign_up(session, settings, mail, list_slug="news", email="bob@example.org")
    with pytest.raises(InvalidToken, match="not valid"):
        confirm(session, settings, mail, stale)
    assert status_of(session, "bob@example.org") == "pending"     # Bob has not opted in
