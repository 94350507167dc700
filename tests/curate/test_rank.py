"""The ranking on constructed cases: pure functions, no database."""

from datetime import UTC, datetime, timedelta

from digest.curate.rank import Candidate, Caps, pick, rank, score
from digest.models import Story

NOW = datetime(2026, 11, 27, 6, 0, tzinfo=UTC)
WIDE = Caps(limit=10, per_source=10, per_domain=10)


def story(story_id: int, *, hours_ago: float = 1, source: int | None = None,
          site: str | None = None, section: str = "news", boost: float = 0.0,
          blocked: bool = False) -> Story:
    site = site or f"site{story_id}.example"
    return Story(id=story_id, source_id=source or story_id, title=f"Story {story_id}",
                 canonical_url=f"https://{site}/{story_id}", url=f"https://{site}/{story_id}",
                 section=section, published_at=NOW - timedelta(hours=hours_ago),
                 boost=boost, blocked=blocked)


def ids(chosen) -> list[int]:
    return [r.story.id for r in chosen]


def test_fresher_beats_older_at_equal_weight():
    old, fresh = Candidate(story(1, hours_ago=20), 1.0), Candidate(story(2, hours_ago=2), 1.0)
    assert ids(pick([old, fresh], now=NOW, caps=WIDE)) == [2, 1]


def test_the_score_halves_every_half_life():
    assert score(Candidate(story(1, hours_ago=12), 1.0), NOW) == 0.5 * score(
        Candidate(story(2, hours_ago=0), 1.0), NOW)


def test_source_weight_and_editor_boost_count():
    light = Candidate(story(1, hours_ago=1), 0.5)
    heavy = Candidate(story(2, hours_ago=3), 2.0)
    boosted = Candidate(story(3, hours_ago=3, boost=3.0), 0.5)
    assert ids(pick([light, heavy, boosted], now=NOW, caps=WIDE)) == [3, 2, 1]


def test_a_blocked_story_never_appears_however_strong():
    blocked = Candidate(story(1, hours_ago=0, blocked=True, boost=10), 5.0, source_count=9)
    other = Candidate(story(2, hours_ago=30), 0.1)
    assert ids(pick([blocked, other], now=NOW, caps=WIDE)) == [2]
    assert ids(rank([blocked], NOW)) == []


def test_a_story_carried_by_more_independent_sources_ranks_higher():
    single = Candidate(story(1, hours_ago=1), 1.0, source_count=1)
    covered = Candidate(story(2, hours_ago=4), 1.0, source_count=4)
    assert ids(pick([single, covered], now=NOW, caps=WIDE)) == [2, 1]


def test_earlier_clicks_count():
    unread = Candidate(story(1, hours_ago=2), 1.0, clicks=0)
    clicked = Candidate(story(2, hours_ago=2), 1.0, clicks=40)
    assert ids(pick([unread, clicked], now=NOW, caps=WIDE)) == [2, 1]
    assert score(clicked, NOW) > score(Candidate(story(3, hours_ago=2), 1.0, clicks=3), NOW)


def test_ties_break_by_recency_then_by_id_whatever_the_input_order():
    # Twice the weight, one half-life older: exactly the same score.
    older = Candidate(story(4, hours_ago=12), 2.0)
    same = [Candidate(story(i, hours_ago=0), 1.0) for i in (7, 3, 5)]
    assert len({score(c, NOW) for c in [older, *same]}) == 1
    first = ids(pick([older, *same], now=NOW, caps=WIDE))
    assert first == [3, 5, 7, 4]
    assert ids(pick([*reversed(same), older], now=NOW, caps=WIDE)) == first


def test_per_source_cap_holds():
    many = [Candidate(story(i, source=1, hours_ago=i), 2.0) for i in range(1, 6)]
    weak = [Candidate(story(10 + i, hours_ago=30), 0.2) for i in range(3)]
    chosen = pick(many + weak, now=NOW, caps=Caps(limit=5, per_source=2, per_domain=10))
    assert ids(chosen) == [1, 2, 10, 11, 12]


def test_per_domain_cap_holds_across_sources_of_one_site():
    same_site = [Candidate(story(i, source=i, site="www.big.example", hours_ago=i), 2.0)
                 for i in range(1, 5)]
    other = [Candidate(story(20, site="small.example", hours_ago=30), 0.2)]
    chosen = pick(same_site + other, now=NOW, caps=Caps(limit=4, per_source=4, per_domain=2))
    assert ids(chosen) == [1, 2, 20]


def test_sections_are_spread_rather_than_filled_from_the_busiest():
    tech = [Candidate(story(i, section="tech", hours_ago=i * 0.1), 1.0) for i in range(1, 5)]
    world = [Candidate(story(10, section="world", hours_ago=1.5), 1.0)]
    chosen = pick(tech + world, now=NOW, caps=Caps(limit=3, per_source=9, per_domain=9))
    assert [r.story.section for r in chosen] == ["tech", "world", "tech"]


def test_the_limit_holds_and_pick_is_deterministic():
    pool = [Candidate(story(i, hours_ago=i % 7, section=("a", "b", "c")[i % 3]), 1 + i % 4 / 10,
                      source_count=1 + i % 3, clicks=i % 5) for i in range(1, 40)]
    caps = Caps(limit=8, per_source=2, per_domain=2)
    chosen = pick(pool, now=NOW, caps=caps)
    assert len(chosen) == 8
    assert ids(chosen) == ids(pick(list(reversed(pool)), now=NOW, caps=caps))
