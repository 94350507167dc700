"""Real-world headlines and excerpts (the shared corpus, when present) through the whole
rendering path: exact personalisation with both inliners, and a clean pre-send check."""

from __future__ import annotations

import json

import pytest

from digest import PROJECT_ROOT
from digest.render.checks import check_edition
from digest.render.digest import personalise, render_variant
from digest.subscribers.links import personal_values, sample_values
from tests.render.specimen import readers, specimen_edition

CORPUS = PROJECT_ROOT.parent / "shared" / "corpus" / "mozilla-readability"


def corpus_stories() -> list[tuple]:
    stories = []
    for path in sorted(CORPUS.glob("*/expected-metadata.json")):
        meta = json.loads(path.read_text(encoding="utf-8"))
        if meta.get("title"):
            stories.append(("world", meta.get("siteName") or path.parent.name, meta["title"],
                            meta.get("excerpt") or meta["title"], None))
    return stories


@pytest.mark.parametrize("inliner", ["premailer", "css-inline"])
def test_real_headlines_and_excerpts_render_exactly_and_pass_the_check(sqlite_session, sqlite_settings, inliner):
    if not CORPUS.is_dir():
        pytest.skip("the shared corpus is not on this machine")
    settings = sqlite_settings.model_copy(update={"css_inliner": inliner})
    stories = corpus_stories()
    assert len(stories) > 30
    for number, start in enumerate(range(0, len(stories), 12)):
        edition = specimen_edition(sqlite_session, stories[start:start + 12], slug=f"corpus-{number}")
        shared = render_variant(sqlite_session, settings, edition)
        for reader in readers()[:3]:
            personal = personal_values(settings, reader, edition.list_id)
            assert personalise(shared, personal) == render_variant(
                sqlite_session, settings, edition, personal=personal)
        assert check_edition(sqlite_session, settings, edition,
                             sample_values(settings, edition.list_id)) == []
