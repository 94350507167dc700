"""The per-message return path: signed, case-insensitive, within 64 octets, and used as the
envelope sender of every digest and transactional mail when DIGEST_BOUNCE_ADDRESS is set."""

import pytest
from pydantic import ValidationError
from sqlmodel import select

from digest.bounces import verp
from digest.mail.backends import get_backend
from digest.models import Subscriber
from digest.render.digest import Rendered
from digest.send.service import send_inline
from digest.settings import MAX_BASE_LOCAL
from digest.subscribers.notify import build_message
from tests.conftest import make_settings
from tests.factories import approved_edition, sample_world

KEY = "test-secret"


def test_a_return_path_names_its_delivery_and_survives_lowercasing_and_uppercasing():
    address = verp.return_path(KEY, "bounces@news.example.org", 1234, 567890)
    local, _, domain = address.partition("@")
    assert domain == "news.example.org" and local.startswith("bounces+")
    assert local[len("bounces+"):].isalnum() and local == local.lower()
    assert verp.read(KEY, address) == (1234, 567890)
    assert verp.read(KEY, address.upper()) == (1234, 567890)
    assert verp.read(KEY, f"<{address}>") == (1234, 567890)
    # A transactional mail names no edition.
    assert verp.read(KEY, verp.return_path(KEY, "bounces@news.example.org", None, 7)) == (None, 7)


def test_the_local_part_stays_within_64_octets_for_the_largest_ids():
    base = "b" * MAX_BASE_LOCAL
    address = verp.return_path(KEY, f"{base}@news.example.org", 2**64 - 1, 2**64 - 1)
    assert len(address.partition("@")[0]) <= 64
    assert verp.read(KEY, address) == (2**64 - 1, 2**64 - 1)


@pytest.mark.parametrize("forge", [
    lambda a: a.replace("+", "+a", 1),                       # a character more
    lambda a: a.replace("@", "a@"),                          # at the end
    lambda a: a[:9] + ("b" if a[9] != "b" else "c") + a[10:],  # one character changed
    lambda a: a.partition("+")[0] + "@news.example.org",     # no token at all
    lambda a: a.replace("+", "+=", 1),                       # not base32
    lambda a: "",
])
def test_tampered_tokens_are_refused(forge):
    address = verp.return_path(KEY, "bounces@news.example.org", 12, 34)
    assert verp.read(KEY, forge(address)) is None


def test_a_token_signed_with_another_key_is_refused():
    address = verp.return_path("another key", "bounces@news.example.org", 12, 34)
    assert verp.read(KEY, address) is None


def test_every_forged_token_of_the_right_shape_is_refused():
    # Swap one id while keeping the tag: the tag binds both ids.
    good = verp.token(KEY, 12, 34)
    other = verp.token(KEY, 12, 35)
    spliced = other[:6] + good[6:]
    assert verp.read(KEY, f"bounces+{spliced}@x.org") is None


@pytest.mark.parametrize("bad", ["bounces@x.org\r\nBcc: evil@x.org", "bounce s@x.org",
                                 "bounces+x@x.org", "<bounces@x.org>", "a" * (MAX_BASE_LOCAL + 1) + "@x.org",
                                 "bounces@localhost"])
def test_a_bounce_address_that_could_break_the_envelope_or_overflow_is_refused(tmp_path, bad):
    with pytest.raises(ValidationError, match="bounce_address"):
        make_settings(tmp_path, "sqlite://", bounce_address=bad)


def test_without_a_bounce_address_the_from_address_stays_the_envelope_sender(tmp_path):
    settings = make_settings(tmp_path, "sqlite://")
    message = build_message(settings, Rendered("Hi", "<p>Hi</p>", "Hi"), to_email="a@example.net",
                            subscriber_id=5)
    assert message.sender == "daily@news.example.org"


def test_a_transactional_mail_bounces_to_its_subscribers_return_path(tmp_path):
    settings = make_settings(tmp_path, "sqlite://", bounce_address="bounces@news.example.org")
    message = build_message(settings, Rendered("Hi", "<p>Hi</p>", "Hi"), to_email="a@example.net",
                            subscriber_id=5)
    assert verp.read(settings.secret_key, message.sender) == (None, 5)


def test_the_relay_sees_each_messages_own_return_path(session, settings, smtp_server, tmp_path):
    settings = make_settings(tmp_path, settings.database_url, mail_backend="smtp",
                             smtp_host="127.0.0.1", smtp_port=smtp_server.port,
                             bounce_address="bounces@news.example.org")
    lists = sample_world(session, settings)
    edition = approved_edition(session, lists["morning-briefing"])
    send_inline(session, settings, get_backend(settings), edition.id)
    ids = dict(session.exec(select(Subscriber.email, Subscriber.id)).all())
    assert len(smtp_server.messages) >= 2
    for message, sender in zip(smtp_server.messages, smtp_server.senders, strict=True):
        recipient = message["To"].addresses[0].addr_spec
        assert sender.startswith("bounces+") and sender.endswith("@news.example.org")
        assert verp.read(settings.secret_key, sender) == (edition.id, ids[recipient])
        assert message["From"].addresses[0].addr_spec == "daily@news.example.org"
        assert "bounces+" not in message.as_string()   # the return path is not a header
    assert len(set(smtp_server.senders)) == len(smtp_server.senders)
