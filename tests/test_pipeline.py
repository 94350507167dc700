"""The whole slice on both databases: feeds in, one message per active subscriber out."""

from email import message_from_bytes, policy

import pytest
from sqlmodel import func, select

from digest.mail.backends.memory import MemoryBackend
from digest.mail.errors import Bounce
from digest.models import Delivery, EditionStatus, Story, Subscriber, Subscription
from digest.send.service import SendError, send_inline, start_send
from digest.subscribers.suppression import is_suppressed
from tests.factories import active_emails, approved_edition, sample_world


def test_every_active_subscriber_gets_one_message_and_nobody_else(session, settings):
    lists = sample_world(session, settings)
    morning = lists["morning-briefing"]
    edition = approved_edition(session, morning)
    backend = MemoryBackend()

    report = send_inline(session, settings, backend, edition.id)

    expected = active_emails(session, morning)
    assert sorted(m.recipient for m in backend.outbox) == sorted(expected)
    assert report.outcomes == {"sent": len(expected)}
    assert "pending.reader@example.com" not in expected and "gone.away@example.com" not in expected
    assert len({m.message_id for m in backend.outbox}) == len(expected)
    session.refresh(edition)
    assert edition.status == EditionStatus.SENT


def test_an_edition_is_never_sent_twice(session, settings):
    morning = sample_world(session, settings)["morning-briefing"]
    edition = approved_edition(session, morning)
    backend = MemoryBackend()
    send_inline(session, settings, backend, edition.id)
    first = len(backend.outbox)

    with pytest.raises(SendError, match="sent and cannot be sent"):
        send_inline(session, settings, backend, edition.id)
    assert len(backend.outbox) == first
    rows = session.exec(select(func.count()).select_from(Delivery)).one()
    assert rows == first


def test_a_draft_is_not_sent(session, settings):
    tech = sample_world(session, settings)["tech-and-science"]
    from digest.curate.editions import build_draft, todays_slot
    edition = build_draft(session, tech, todays_slot(tech))
    session.commit()
    with pytest.raises(SendError, match="draft: approve it first"):
        start_send(session, settings, edition.id)


def test_the_same_story_from_two_feeds_is_stored_once(session, settings):
    sample_world(session, settings)
    urls = session.exec(select(Story.canonical_url)).all()
    assert len(urls) == len(set(urls)) == 30
    assert not any("utm_" in url for url in urls)


def test_a_hard_bounce_suppresses_the_address_and_the_rest_are_sent(session, settings):
    morning = sample_world(session, settings)["morning-briefing"]
    edition = approved_edition(session, morning)
    backend = MemoryBackend()
    backend.failures["ada.lovelace@example.com"] = Bounce("550 no such user", code=550)

    report = send_inline(session, settings, backend, edition.id)

    assert report.outcomes["bounced"] == 1
    assert report.outcomes["sent"] == len(active_emails(session, morning)) - 1
    assert is_suppressed(session, "Ada.Lovelace@example.com")


def test_messages_are_well_formed_multipart_with_list_headers(session, settings):
    morning = sample_world(session, settings)["morning-briefing"]
    edition = approved_edition(session, morning)
    backend = MemoryBackend()
    send_inline(session, settings, backend, edition.id)

    message = message_from_bytes(backend.outbox[0].data, policy=policy.default)
    assert message.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    assert message["List-Unsubscribe"].startswith("<https://news.example.org/unsubscribe/")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["From"] == "Example Daily <daily@news.example.org>"
    html = message.get_body(("html",)).get_content()
    assert 'style="' in html and "__DIGEST_" not in html
    assert message["List-Unsubscribe"].strip("<>") in html


def test_timestamps_come_back_timezone_aware(session, settings):
    sample_world(session, settings)
    story = session.exec(select(Story)).first()
    session.expire_all()
    story = session.get(Story, story.id)
    assert story.published_at.utcoffset().total_seconds() == 0


def test_unique_constraints_hold(session, settings):
    from sqlalchemy.exc import IntegrityError
    lists = sample_world(session, settings)
    subscriber = session.exec(select(Subscriber)).first()
    existing = session.exec(select(Subscription).where(
        Subscription.subscriber_id == subscriber.id)).first()
    session.add(Subscription(subscriber_id=subscriber.id, list_id=existing.list_id))
    with pytest.raises(IntegrityError):
        session.commit()
    session.rollback()
    assert lists


def test_a_story_carried_by_two_feeds_keeps_both_sightings(session, settings):
    from digest.models import StorySource
    sample_world(session, settings)
    story = session.exec(select(Story).where(Story.canonical_url.contains("open-source-maintainers-fund"))).one()
    sightings = session.exec(select(StorySource).where(StorySource.story_id == story.id)).all()
    assert len(sightings) == 2
    assert any("utm_source" in s.url for s in sightings)
