"""Variant keys and what a variant renders: only the stories of the chosen topics."""

from __future__ import annotations

import pytest

from digest.render.digest import render_variant
from digest.render.variants import (
    ALL, VariantError, variant_key, variant_parts, variant_stories, variant_topics,
)


def test_a_key_is_the_same_for_the_same_choice_in_any_order_or_case():
    assert variant_key(["Tech", " science ", "tech"]) == variant_key(["science", "TECH"])
    assert variant_key(["science", "tech"]) == "topics:science,tech"
    assert variant_key([]) == variant_key(None) == variant_key([" "]) == ALL
    assert variant_topics("topics:science,tech") == {"science", "tech"}
    assert variant_topics(ALL) is None


def test_a_key_can_leave_out_stories_sorted_so_that_the_same_exclusions_share_it():
    assert variant_key(None, {40, 12}) == "all;skip:12,40"
    assert variant_key(["tech"], [12]) == "topics:tech;skip:12"
    assert variant_key(["tech"], ()) == "topics:tech"
    assert variant_parts("topics:science,tech;skip:3,7") == ({"science", "tech"}, {3, 7})
    assert variant_parts(ALL) == (None, frozenset())


@pytest.mark.parametrize("key", ["topics:", "topics:tech,science", "Tech", "topics:a,,b",
                                 "all;skip:", "all;skip:7,3", "all;skip:x", "all;skip:3,3"])
def test_a_malformed_key_is_refused_by_name(key):
    with pytest.raises(VariantError, match="not a variant key"):
        variant_topics(key)


def test_a_key_that_would_not_fit_the_column_is_refused():
    with pytest.raises(VariantError, match="too many topics"):
        variant_key([f"topic-number-{i}" for i in range(20)])
    with pytest.raises(VariantError, match="comma"):
        variant_key(["a,b"])


class Item:
    def __init__(self, story_id, section):
        self.story_id, self.section = story_id, section

    def __repr__(self):
        return f"{self.section}{self.story_id}"


def test_each_story_left_out_is_replaced_by_the_next_reserve_of_the_variants_topics():
    items = [Item(1, "tech"), Item(2, "science"), Item(3, "tech")]
    reserves = [Item(4, "science"), Item(5, "tech"), Item(6, "tech")]
    ids = lambda stories: [s.story_id for s in stories]  # noqa: E731
    assert ids(variant_stories(items, reserves, None, frozenset())) == [1, 2, 3]
    assert ids(variant_stories(items, reserves, None, frozenset({1, 4}))) == [2, 3, 5]
    assert ids(variant_stories(items, reserves, frozenset({"tech"}), frozenset({3}))) == [1, 5]
    assert ids(variant_stories(items, reserves, frozenset({"tech"}), frozenset({1, 3, 5}))) == [6]
    # A choice matching no item gets every item; reserves run out rather than repeat.
    assert ids(variant_stories(items, reserves, frozenset({"sport"}), frozenset({1, 2, 3, 4}))) == [5, 6]


def test_a_topic_variant_has_only_its_stories_and_a_subject_of_its_own(sqlite_session, sqlite_settings, specimen):
    business = render_variant(sqlite_session, sqlite_settings, specimen, variant_key(["business"]))
    everything = render_variant(sqlite_session, sqlite_settings, specimen)
    assert business.html.count('class="section"') == 3
    assert everything.html.count('class="section"') == 12
    assert "Regulator blocks the merger" in business.text
    assert "Delta flood barrier" not in business.html + business.text
    assert business.subject == "Central bank holds rates and signals a cut in spring + 2 more"
    assert everything.subject == specimen.subject
    assert "here are today's 3 top stories." in business.text


def test_topics_matching_no_story_get_every_story(sqlite_session, sqlite_settings, specimen):
    rendered = render_variant(sqlite_session, sqlite_settings, specimen, variant_key(["gardening"]))
    assert rendered == render_variant(sqlite_session, sqlite_settings, specimen)
