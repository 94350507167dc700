import random
from datetime import UTC, datetime, timedelta

import pytest

from digest.ingest.dedupe import NEAR_WINDOW, IndexedTitle, TitleIndex, same_story_title, title_key


@pytest.mark.parametrize("a, b", [
    ("Storm barrier opens a year early - Harbour Herald", "Storm Barrier Opens a Year Early"),
    ("Council approves the new tram line", "Council Approves New Tram Line | Wire Service"),
    ("Rates rise again as inflation bites", "Rates rise again as inflation bites hard"),
    ("Open-source maintainers fund launches with $10m", "Open source maintainers' fund launches with $10m"),
    ("Council approve the tram line extension", "Council approves the tram line extension"),
    ("Préfecture ferme le pont du Rhône", "Prefecture ferme le pont du Rhone"),
])
def test_lightly_edited_titles_are_the_same_story(a, b):
    assert same_story_title(title_key(a), title_key(b))


@pytest.mark.parametrize("a, b", [
    ("Giant Bombcast 603: Call of Tuesday", "Giant Bombcast 604: Call of Tuesday"),
    ("Game of the Year 2018: Day Four Deliberations", "Game of the Year 2018: Day Three Deliberations"),
    ("Rates rise again as inflation bites", "Rates fall again as inflation bites"),
    ("Weekly links", "Weekly links"),                      # too short to judge
    ("Storm warning for the coast this weekend", "Council approves the new tram line"),
])
def test_different_stories_stay_apart(a, b):
    assert not same_story_title(title_key(a), title_key(b))


@pytest.mark.parametrize("a, b, same", [
    # A title of stopwords and one word is too vague to match fuzzily, however close...
    ("It is what it is", "It is what it is now", False),
    # ...but the very same title still names the same story.
    ("It is what it is - Podcast Weekly", "It is what it is", True),
])
def test_titles_with_one_content_word_match_only_the_same_title(a, b, same):
    assert same_story_title(title_key(a), title_key(b)) is same


def edited_headlines(rng: random.Random, count: int) -> list[str]:
    """Headlines over a small vocabulary with stopwords and numbers, most of them an earlier
    one edited: a word added, dropped, swapped for another or given a typo."""
    vocabulary = ["".join(rng.choices("abdeiklmnoprstu", k=rng.randint(2, 7))) for _ in range(40)]
    stopwords = ["the", "of", "a", "new", "in", "is"]
    titles: list[str] = []
    for _ in range(count):
        if not titles or rng.random() < 0.4:
            words = [rng.choice(stopwords if rng.random() < 0.3 else vocabulary)
                     for _ in range(rng.randint(3, 9))]
            if rng.random() < 0.2:
                words.append(str(rng.randint(1, 3)))
        else:
            words = rng.choice(titles).split()
            at = rng.randrange(len(words))
            edit = rng.choice(["add", "drop", "swap", "typo"])
            if edit == "add":
                words.insert(at, rng.choice(vocabulary + stopwords))
            elif edit == "drop" and len(words) > 1:
                del words[at]
            elif edit == "swap":
                words[at] = rng.choice(vocabulary)
            else:
                words[at] += "s"
        titles.append(" ".join(words))
    return titles


@pytest.mark.parametrize("seed, languages", [(seed, [None]) for seed in range(6)]
                         + [(seed, [None, "en", "de", "fr", "xx"]) for seed in range(6, 9)])
def test_the_title_index_finds_what_comparing_every_pair_finds(seed, languages):
    """The index only spares comparisons: its answer is the first earlier title, in id order,
    that same_story_title accepts within the window, as a scan of every pair gives; also
    when titles of several languages (other function words, or none) meet."""
    rng, start = random.Random(seed), datetime(2026, 1, 1, tzinfo=UTC)
    titles = [IndexedTitle((1, n), title_key(title), start + timedelta(hours=rng.uniform(0, 150)),
                           rng.choice(languages))
              for n, title in enumerate(edited_headlines(rng, 300))]
    index = TitleIndex(t.key for t in titles)
    found = 0
    for n, title in enumerate(titles):
        expected = next((earlier.ref for earlier in titles[:n]
                         if abs(earlier.published_at - title.published_at) <= NEAR_WINDOW
                         and same_story_title(title.key, earlier.key, title.language,
                                              earlier.language)), None)
        assert index.find(title) == expected, title.key
        found += expected is not None
        index.add(title)
    assert found > (50 if languages == [None] else 30)  # the edits do make near duplicates to find
