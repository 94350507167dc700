"""Unsubscribe, preferences, data download and erasure, and how sends honour them."""

from sqlmodel import select

from digest.mail.backends.memory import MemoryBackend
from digest.models import Delivery, DigestList, Subscriber, Subscription, Suppression
from digest.send.service import send_batch, send_inline, start_send
from digest.subscribers import manage
from digest.subscribers.signup import SignUpOutcome, sign_up
from digest.subscribers.suppression import email_hash, is_suppressed
from tests.factories import active_emails, approved_edition, sample_world
from tests.subscribers.helpers import SendNow

ADA = "ada.lovelace@example.com"


def subscriber(session, email=ADA) -> Subscriber:
    return session.exec(select(Subscriber).where(Subscriber.email == email)).one()


def test_unsubscribe_from_one_list_then_from_all(session, settings):
    lists = sample_world(session, settings)
    ada = subscriber(session)
    assert manage.unsubscribe(session, ada.id, lists["morning-briefing"].id)
    assert not manage.unsubscribe(session, ada.id, lists["morning-briefing"].id)   # idempotent
    assert ADA not in active_emails(session, lists["morning-briefing"])
    assert ADA in active_emails(session, lists["tech-and-science"])
    assert not is_suppressed(session, ADA)
    assert manage.unsubscribe(session, ada.id, None)
    assert ADA not in active_emails(session, lists["tech-and-science"])
    assert is_suppressed(session, ADA)


def test_a_send_in_progress_skips_who_left_or_was_suppressed_after_it_started(session, settings):
    lists = sample_world(session, settings)
    edition = approved_edition(session, lists["morning-briefing"])
    start_send(session, settings, edition.id)       # ledger rows for every active subscriber
    manage.unsubscribe(session, subscriber(session).id, lists["morning-briefing"].id)
    grace = subscriber(session, "grace.hopper@example.com")
    session.add(Suppression(email_hash=email_hash(grace.email), reason="complaint"))
    session.commit()
    backend = MemoryBackend()
    while send_batch(session, settings, backend, edition.id).outcomes:
        pass
    recipients = {m.recipient for m in backend.outbox}
    assert recipients and ADA not in recipients and grace.email not in recipients


def test_preferences_change_name_lists_and_topics(session, settings):
    lists = sample_world(session, settings)
    alan = subscriber(session, "alan.turing@example.com")
    tech, morning = lists["tech-and-science"], lists["morning-briefing"]
    manage.update_preferences(session, alan.id, name="  Alan\r\nM. Turing ",
                              lists={morning.id}, topics={tech.id: ["tech"], morning.id: ["x"]})
    _, choices = manage.preferences(session, alan.id)
    chosen = {c.digest_list.slug: (c.subscribed, c.topics) for c in choices}
    assert chosen == {"morning-briefing": (True, []), "tech-and-science": (False, [])}
    assert subscriber(session, alan.email).name == "Alan M. Turing"
    manage.update_preferences(session, alan.id, name="", lists={tech.id},
                              topics={tech.id: ["science", "tech"]})
    _, choices = manage.preferences(session, alan.id)
    assert {c.digest_list.slug: (c.subscribed, c.topics) for c in choices}["tech-and-science"] == (
        True, ["tech", "science"])


def test_erasure_leaves_only_a_hash_and_the_person_may_come_back(session, settings):
    lists = sample_world(session, settings)
    morning = lists["morning-briefing"]
    backend = MemoryBackend()
    send_inline(session, settings, backend, approved_edition(session, morning).id)
    ada = subscriber(session)
    data = manage.export_data(session, ada.id)
    assert data["email"] == ADA and {s["list"] for s in data["subscriptions"]} == set(lists)
    assert [d["status"] for d in data["deliveries"]] == ["sent"]

    assert manage.erase(session, ada.id)
    assert session.exec(select(Subscriber).where(Subscriber.email == ADA)).first() is None
    assert session.exec(select(Subscription).where(Subscription.subscriber_id == ada.id)).all() == []
    assert session.exec(select(Delivery).where(Delivery.subscriber_id == ada.id)).all() == []
    assert session.exec(select(Suppression.reason).where(
        Suppression.email_hash == email_hash(ADA))).one() == "erased"
    assert manage.export_data(session, ada.id) is None
    assert not manage.unsubscribe(session, ada.id, None)

    # Her own choice, so her own new sign-up may lift it (after she confirms).
    assert sign_up(session, settings, SendNow(settings), list_slug="morning-briefing",
                   email=ADA) == SignUpOutcome.CONFIRMATION_QUEUED


def test_lists_without_subscription_show_unchosen(session, settings):
    session.add(DigestList(slug="solo", name="Solo"))
    session.add(Subscriber(email="x@example.org"))
    session.commit()
    person = subscriber(session, "x@example.org")
    _, choices = manage.preferences(session, person.id)
    assert [(c.digest_list.slug, c.subscribed) for c in choices] == [("solo", False)]


def test_sqlite_never_gives_an_erased_subscribers_id_to_someone_else(sqlite_session):
    # Without AUTOINCREMENT, SQLite takes the largest id in use plus one: the newest
    # subscriber's id, once erased, went to the next one, and with it their old links.
    first, newest = Subscriber(email="a@example.org"), Subscriber(email="b@example.org")
    sqlite_session.add_all([first, newest])
    sqlite_session.commit()
    erased = newest.id
    manage.erase(sqlite_session, erased)
    later = Subscriber(email="c@example.org")
    sqlite_session.add(later)
    sqlite_session.commit()
    assert later.id > erased
