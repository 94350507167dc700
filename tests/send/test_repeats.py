"""No story twice: a reader of several lists does not get a story again from another list
within DIGEST_NO_REPEAT_DAYS; the next story takes its place, readers with the same
exclusions share one rendering, and the variant cap is kept and reported."""

import re
from datetime import timedelta
from email import message_from_bytes, policy

import pytest
from sqlalchemy import update
from sqlmodel import select

from digest.curate.editions import approve, build_draft, items, todays_slot
from digest.mail.backends.memory import MemoryBackend
from digest.models import (
    Delivery, DigestList, Edition, EditionItem, EditionVariant, Source, Story, Subscriber,
    Subscription, SubscriptionStatus, utcnow,
)
from digest.render import digest as render_digest
from digest.send.control import progress
from digest.send.service import send_inline


def world(session, sections: dict[str, int]):
    """Stories per section, the first of each the freshest, from one source per section."""
    now = utcnow()
    stories = {}
    for section, n in sections.items():
        source = Source(name=f"{section} wire", url=f"https://{section}.example.org/feed",
                        section=section)
        session.add(source)
        session.flush()
        for i in range(1, n + 1):
            story = Story(source_id=source.id, canonical_url=f"https://{section}.example.org/{i}",
                          url=f"https://{section}.example.org/{i}", title=f"{section.title()} story {i}",
                          text=f"The {section} story number {i} happened today.", section=section,
                          published_at=now - timedelta(minutes=10 * i))
            session.add(story)
            stories[f"{section}{i}"] = story
    session.flush()
    return stories


def make_list(session, slug, sections, max_stories):
    digest_list = DigestList(slug=slug, name=slug.title(), sections=sections, max_stories=max_stories,
                             min_stories=1, per_source_cap=10, per_domain_cap=10)
    session.add(digest_list)
    session.flush()
    return digest_list


def readers(session, lists_by_reader: dict[str, list[DigestList]]):
    for email, lists in lists_by_reader.items():
        subscriber = Subscriber(email=email)
        session.add(subscriber)
        session.flush()
        for digest_list in lists:
            session.add(Subscription(subscriber_id=subscriber.id, list_id=digest_list.id,
                                     status=SubscriptionStatus.ACTIVE))
    session.commit()


def send(session, settings, digest_list):
    edition = build_draft(session, digest_list, todays_slot(digest_list))
    approve(session, edition.id)
    session.commit()
    backend = MemoryBackend()
    send_inline(session, settings, backend, edition.id)
    return edition, backend


def headlines(backend, email):
    message = next(m for m in backend.outbox if m.recipient == email)
    text = message_from_bytes(message.data, policy=policy.default).get_body(("plain",)).get_content()
    return re.findall(r"^\d+\. (.+?)\r?$", text, re.MULTILINE)


def subject(backend, email):
    message = next(m for m in backend.outbox if m.recipient == email)
    return message_from_bytes(message.data, policy=policy.default)["Subject"]


def test_a_reader_of_two_lists_gets_a_story_once_and_the_next_takes_its_place(session, settings):
    stories = world(session, {"news": 8})
    first, second = make_list(session, "first", ["news"], 2), make_list(session, "second", ["news"], 3)
    readers(session, {"both@example.org": [first, second], "second@example.org": [second]})

    send(session, settings, first)
    edition, backend = send(session, settings, second)

    assert [i.story_id for i in items(session, edition.id)] == [stories[f"news{i}"].id for i in (1, 2, 3)]
    assert headlines(backend, "second@example.org") == ["News story 1", "News story 2", "News story 3"]
    assert headlines(backend, "both@example.org") == ["News story 3", "News story 4", "News story 5"]
    # The subject names only stories the copy contains.
    assert subject(backend, "both@example.org") == "News story 3 + 2 more"
    assert subject(backend, "second@example.org") == "News story 1 + 2 more"
    reserves = session.exec(select(EditionItem.story_id).where(
        EditionItem.edition_id == edition.id, EditionItem.reserve.is_(True))).all()
    assert sorted(reserves) == sorted([stories["news4"].id, stories["news5"].id])
    skipped = f"all;skip:{min(stories['news1'].id, stories['news2'].id)},{max(stories['news1'].id, stories['news2'].id)}"
    variant = session.exec(select(EditionVariant).where(EditionVariant.edition_id == edition.id,
                                                        EditionVariant.key == skipped)).one()
    assert variant.stories == [stories[f"news{i}"].id for i in (3, 4, 5)]


def test_after_the_window_the_story_may_come_again(session, settings):
    world(session, {"news": 8})
    first, second = make_list(session, "first", ["news"], 2), make_list(session, "second", ["news"], 3)
    readers(session, {"both@example.org": [first, second]})
    earlier, _ = send(session, settings, first)
    long_ago = utcnow() - timedelta(days=settings.no_repeat_days, hours=1)
    session.execute(update(Delivery).where(Delivery.edition_id == earlier.id).values(sent_at=long_ago))
    session.execute(update(Edition).where(Edition.id == earlier.id).values(sent_at=long_ago))
    session.commit()

    edition, backend = send(session, settings, second)

    assert headlines(backend, "both@example.org") == ["News story 1", "News story 2", "News story 3"]
    assert session.exec(select(EditionItem).where(EditionItem.edition_id == edition.id,
                                                  EditionItem.reserve.is_(True))).all() == []


def test_readers_with_the_same_exclusions_share_one_rendering(session, settings, monkeypatch):
    world(session, {"news": 8})
    first, second = make_list(session, "first", ["news"], 2), make_list(session, "second", ["news"], 3)
    readers(session, {**{f"both{i}@example.org": [first, second] for i in range(6)},
                      **{f"only{i}@example.org": [second] for i in range(4)}})
    send(session, settings, first)
    renders = []
    real = render_digest.edition_context
    monkeypatch.setattr(render_digest, "edition_context",
                        lambda *args, **kw: renders.append(args[3:]) or real(*args, **kw))

    edition, backend = send(session, settings, second)

    assert len(backend.outbox) == 10
    keys = session.exec(select(EditionVariant.key).where(EditionVariant.edition_id == edition.id)).all()
    assert len(keys) == 2 and len(renders) == 2


@pytest.mark.parametrize("cap, over", [(3, 1), (4, 0)])
def test_the_variant_cap_is_kept_and_the_repeats_it_causes_are_reported(session, settings, cap, over):
    settings = settings.model_copy(update={"max_variants": cap})
    world(session, {"x": 6, "y": 6})
    only_x, only_y = make_list(session, "only-x", ["x"], 1), make_list(session, "only-y", ["y"], 1)
    both = make_list(session, "both", ["x", "y"], 4)
    readers(session, {**{f"p{i}@example.org": [only_x, both] for i in range(3)},
                      **{f"q{i}@example.org": [only_y, both] for i in range(2)},
                      "r@example.org": [only_x, only_y, both]})
    send(session, settings, only_x)
    send(session, settings, only_y)

    edition, backend = send(session, settings, both)

    keys = session.exec(select(EditionVariant.key).where(EditionVariant.edition_id == edition.id)).all()
    assert len(keys) == cap
    got = headlines(backend, "r@example.org")
    repeated = {"X story 1", "Y story 1"} & set(got)
    assert len(repeated) == over and len(got) == 4
    assert "X story 1" not in headlines(backend, "p0@example.org")
    assert "Y story 1" not in headlines(backend, "q0@example.org")
    session.expire_all()
    assert session.get(Edition, edition.id).repeats_over_cap == over
    assert progress(session, edition.id).repeats_over_cap == over
