"""Building drafts on a real database (SQLite and PostgreSQL)."""

from datetime import timedelta

import pytest

from digest.curate.editions import build_draft, hold_reason, items
from digest.models import Click, Edition, EditionStatus, Source, Story, Subscriber
from digest.schedule import tick

from tests.curate.world import NOW, SLOT, digest_list, later, source, story


def headlines(session, edition):
    return [item.headline for item in items(session, edition.id)]


def test_a_draft_has_the_top_stories_in_order_with_summaries_subject_and_preheader(session):
    herald, ledger, wire = source(session, "herald.example"), source(session, "ledger.example"), \
        source(session, "wire.example")
    story(session, herald, "old-news", hours_ago=30, title="Old news")
    story(session, ledger, "fresh-news", hours_ago=1, title="Fresh news")
    story(session, herald, "covered-news", hours_ago=4, also_in=(ledger, wire), title="Covered news")
    story(session, wire, "middle-news", hours_ago=3, title="Middle news")
    daily = digest_list(session, max_stories=3)

    edition = build_draft(session, daily, SLOT, now=NOW)
    session.commit()

    assert edition.status == EditionStatus.DRAFT
    assert headlines(session, edition) == ["Covered news", "Fresh news", "Middle news"]
    assert edition.subject == "Covered news + 2 more"
    assert edition.preheader == "Fresh news \u00b7 Middle news"
    first = items(session, edition.id)[0]
    assert first.summary == "The covered news story starts here. It has a second sentence too."
    assert "not approved" in hold_reason(edition, later(3))
    assert build_draft(session, daily, SLOT, now=NOW).id == edition.id  # building twice finds it


@pytest.mark.parametrize("counted", [True, False])
def test_clicks_in_earlier_editions_lift_a_story_unless_a_scanner_made_them(session, counted):
    herald, ledger = source(session, "herald.example"), source(session, "ledger.example")
    plain = story(session, herald, "plain", hours_ago=2)
    clicked = story(session, ledger, "clicked", hours_ago=2.5)
    other_list = digest_list(session, "other")
    earlier = Edition(list_id=other_list.id, slot=SLOT - timedelta(days=1), status=EditionStatus.SENT)
    session.add(earlier)
    session.flush()
    readers = [Subscriber(email=f"reader{i}@example.net") for i in range(10)]
    session.add_all(readers)
    session.flush()
    session.add_all([Click(edition_id=earlier.id, story_id=clicked.id, subscriber_id=reader.id,
                           counted=counted) for reader in readers])
    edition = build_draft(session, digest_list(session), SLOT, now=NOW)
    expected = [clicked.id, plain.id] if counted else [plain.id, clicked.id]
    assert [i.story_id for i in items(session, edition.id)] == expected


def test_a_story_the_list_already_sent_is_never_offered_again(session):
    herald = source(session, "herald.example")
    for n in range(3):
        story(session, herald, f"story-{n}", hours_ago=n + 1)
    daily, weekly = digest_list(session, "daily", max_stories=2), digest_list(session, "weekly")
    first = build_draft(session, daily, SLOT, now=NOW)
    first.status = EditionStatus.SENT
    session.flush()

    second = build_draft(session, daily, SLOT + timedelta(days=1), now=later(1))
    sent = {i.story_id for i in items(session, first.id)}
    assert second.status == EditionStatus.SKIPPED  # one story left, the list needs two
    assert "only 1 qualifying stories" in second.note
    assert hold_reason(second).startswith("skipped: only 1")
    # Another list has sent nothing yet: it may carry them all.
    other = build_draft(session, weekly, SLOT, now=NOW)
    assert sent <= {i.story_id for i in items(session, other.id)}


def test_a_draft_never_sent_does_not_use_up_its_stories(session):
    herald = source(session, "herald.example")
    for n in range(2):
        story(session, herald, f"story-{n}", hours_ago=n + 1)
    daily = digest_list(session)
    first = build_draft(session, daily, SLOT, now=NOW)
    first.status = EditionStatus.CANCELLED  # cancelled before any send started
    second = build_draft(session, daily, SLOT + timedelta(days=1), now=later(1))
    assert len(items(session, second.id)) == 2


def test_blocked_and_stale_stories_and_other_sections_stay_out(session):
    herald = source(session, "herald.example")
    tech = source(session, "tech.example", section="tech")
    story(session, herald, "blocked", hours_ago=1, blocked=True)
    story(session, herald, "stale", hours_ago=50)
    story(session, herald, "world-news", hours_ago=2, section="world")
    kept = [story(session, tech, f"gadget-{n}", hours_ago=n + 1) for n in range(2)]
    edition = build_draft(session, digest_list(session, sections=["tech"], freshness_hours=48),
                          SLOT, now=NOW)
    assert {i.story_id for i in items(session, edition.id)} == {s.id for s in kept}
    assert session.get(Story, kept[0].id).blocked is False


def test_an_auto_approving_list_gets_an_approved_edition(session):
    herald = source(session, "herald.example")
    for n in range(2):
        story(session, herald, f"story-{n}")
    edition = build_draft(session, digest_list(session, auto_approve=True), SLOT, now=NOW)
    assert edition.status == EditionStatus.APPROVED and hold_reason(edition) is None


def test_the_schedule_tells_ops_why_an_edition_is_not_sent(session):
    herald = source(session, "herald.example")
    for n in range(2):
        story(session, herald, f"story-{n}")
    daily = digest_list(session)
    thin = digest_list(session, "thin", min_stories=5)
    report = tick(session, now=SLOT - timedelta(minutes=30))
    assert len(report.built) == 2
    assert any(note.startswith("thin:") and "skipped: only 2" in note for note in report.notes)
    report = tick(session, now=SLOT + timedelta(minutes=5))
    assert report.due == []
    assert any(note.startswith(f"{daily.slug}:") and "not approved" in note for note in report.notes)


def test_a_story_carried_by_several_feeds_ranks_with_the_best_weight_among_them(session):
    minor = source(session, "herald.example", weight=0.5)
    # The same site's front-page feed: no coverage bonus, only its weight can lift the story.
    front = Source(name="Herald front", url="https://herald.example/front.xml", weight=3.0)
    session.add(front)
    session.flush()
    middling = source(session, "ledger.example", weight=2.0)
    carried = story(session, minor, "carried-by-two", hours_ago=2, also_in=(front,))
    single = story(session, middling, "single-feed", hours_ago=2)
    edition = build_draft(session, digest_list(session), SLOT, now=NOW)
    assert [i.story_id for i in items(session, edition.id)] == [carried.id, single.id]
