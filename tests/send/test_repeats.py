"""No story twice: a reader of several lists does not get a story again from another list
within DIGEST_NO_REPEAT_DAYS; the next story takes its place, readers with the same
exclusions share one rendering, and the variant cap is kept and reported."""

from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlmodel import select

from digest.curate.editions import items
from digest.models import Delivery, Edition, EditionItem, EditionVariant, utcnow
from digest.render import digest as render_digest
from digest.send.control import progress
from tests.send.small_world import headlines, make_list, readers, send, subject, world


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


def test_an_editors_subject_and_preheader_stay_as_written_in_every_copy(session, settings):
    world(session, {"news": 8})
    first, second = make_list(session, "first", ["news"], 2), make_list(session, "second", ["news"], 3)
    readers(session, {"both@example.org": [first, second], "second@example.org": [second]})
    send(session, settings, first)

    _, backend = send(session, settings, second, subject="Our pick of the day",
                      preheader="Three stories")

    assert headlines(backend, "both@example.org")[0] == "News story 3"
    assert subject(backend, "both@example.org") == subject(backend, "second@example.org") \
        == "Our pick of the day"
    assert all(b"Three stories" in m.data for m in backend.outbox)
