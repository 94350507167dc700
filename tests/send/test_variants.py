"""Subscribers who chose topics get a variant with only those stories, rendered once per
variant (never per subscriber); everyone else gets the whole edition."""

from email import message_from_bytes, policy

from sqlmodel import select

from digest.curate.editions import items
from digest.mail.backends.memory import MemoryBackend
from digest.models import EditionVariant, Subscriber, Subscription
from digest.send.service import send_inline
from tests.factories import active_emails, approved_edition, sample_world

CHOICES = {
    "alan.turing@example.com": ["science"],
    "radia.perlman@example.com": ["Science"],       # same variant, whatever the case
    "linus@example.com": ["tech", "science"],        # every section: the whole edition
    "mary.jackson@example.com": ["sport"],           # nothing in this edition: the whole edition
}


def choose_topics(session, digest_list):
    for email, topics in CHOICES.items():
        subscriber = session.exec(select(Subscriber).where(Subscriber.email == email)).one()
        subscription = session.exec(select(Subscription).where(
            Subscription.subscriber_id == subscriber.id, Subscription.list_id == digest_list.id)).one()
        subscription.topics = topics
    session.commit()


def html_of(backend, email):
    message = next(m for m in backend.outbox if m.recipient == email)
    return message_from_bytes(message.data, policy=policy.default).get_body(("html",)).get_content()


def test_topic_choices_get_their_own_variant_and_everyone_one_message(session, settings):
    tech = sample_world(session, settings)["tech-and-science"]
    choose_topics(session, tech)
    edition = approved_edition(session, tech)
    stories = items(session, edition.id)
    science = [i.headline for i in stories if i.section == "science"]
    other = [i.headline for i in stories if i.section != "science"]
    assert science and other
    backend = MemoryBackend()

    send_inline(session, settings, backend, edition.id)

    assert sorted(m.recipient for m in backend.outbox) == sorted(active_emails(session, tech))
    keys = session.exec(select(EditionVariant.key).where(EditionVariant.edition_id == edition.id)).all()
    assert sorted(keys) == ["all", "topics:science"]
    for email in ("alan.turing@example.com", "radia.perlman@example.com"):
        html = html_of(backend, email)
        assert all(h in html for h in science) and not any(h in html for h in other)
    for email in ("linus@example.com", "mary.jackson@example.com", "ada.lovelace@example.com"):
        html = html_of(backend, email)
        assert all(h in html for h in science + other)
