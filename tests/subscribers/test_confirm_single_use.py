"""A confirmation link cannot undo what happened after it was made: an unsubscribe, an
unsubscribe from every list, a suppression."""

import time

import pytest
from itsdangerous import TimestampSigner
from sqlmodel import select

from digest.models import Subscriber
from digest.subscribers import manage
from digest.subscribers.signup import confirm, sign_up
from digest.subscribers.suppression import suppress, suppression_reason
from digest.subscribers.tokens import InvalidToken, Purpose, make_token
from tests.subscribers.helpers import SendNow
from tests.subscribers.test_signup import status_of

ANN = "ann@example.org"


@pytest.fixture
def old_link(session, settings, news, monkeypatch):
    """Ann signed up; her confirmation link was made a minute ago."""
    sign_up(session, settings, SendNow(settings), list_slug="news", email=ANN)
    ann = session.exec(select(Subscriber)).one()
    with monkeypatch.context() as patch:
        patch.setattr(TimestampSigner, "get_timestamp", lambda self: int(time.time()) - 60)
        return make_token(settings.secret_key, Purpose.CONFIRM, ann, news.id)


def test_a_link_made_before_an_unsubscribe_cannot_reactivate(session, settings, news, old_link):
    ann = session.exec(select(Subscriber)).one()
    manage.unsubscribe(session, ann.id, news.id)
    with pytest.raises(InvalidToken, match="before the address was unsubscribed"):
        confirm(session, settings, SendNow(settings), old_link)
    assert status_of(session, ANN) == "unsubscribed"


def test_a_link_made_before_leaving_every_list_cannot_lift_it(session, settings, news, old_link):
    ann = session.exec(select(Subscriber)).one()
    manage.unsubscribe(session, ann.id, None)
    with pytest.raises(InvalidToken):
        confirm(session, settings, SendNow(settings), old_link)
    assert suppression_reason(session, ANN) == "unsubscribed"


def test_a_link_made_before_a_suppression_cannot_reactivate(session, settings, news, old_link):
    suppress(session, ANN, "unsubscribed", actor="ops")
    session.commit()
    with pytest.raises(InvalidToken):
        confirm(session, settings, SendNow(settings), old_link)
    assert status_of(session, ANN) == "pending"


def test_an_old_link_still_confirms_when_nothing_happened_since(session, settings, news, old_link):
    assert confirm(session, settings, SendNow(settings), old_link).newly
    assert status_of(session, ANN) == "active"


def test_signing_up_again_after_leaving_gives_a_link_that_works(session, settings, news):
    mail = SendNow(settings)
    sign_up(session, settings, mail, list_slug="news", email=ANN)
    ann = session.exec(select(Subscriber)).one()
    manage.unsubscribe(session, ann.id, None)
    sign_up(session, settings, mail, list_slug="news", email=ANN)   # made after the unsubscribe
    fresh = make_token(settings.secret_key, Purpose.CONFIRM, ann, news.id)
    assert confirm(session, settings, mail, fresh).newly
    assert status_of(session, ANN) == "active" and suppression_reason(session, ANN) is None
