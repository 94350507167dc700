import pytest

from digest.ingest.dedupe import same_story_title, title_key


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
