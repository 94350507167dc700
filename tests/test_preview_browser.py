"""The demo's browser preview opens in a real Chromium and shows the edition."""

from digest.curate.editions import items
from digest.render.digest import preview
from digest.subscribers.links import sample_values
from tests.factories import approved_edition, sample_world


def test_preview_renders_every_story_in_chromium(sqlite_session, sqlite_settings, browser, artifacts):
    morning = sample_world(sqlite_session, sqlite_settings)["morning-briefing"]
    edition = approved_edition(sqlite_session, morning)
    page = browser.new_page(viewport={"width": 700, "height": 900})
    page.set_content(preview(sqlite_session, sqlite_settings, edition,
                             sample_values(sqlite_settings, edition.list_id)).html)
    headlines = page.locator("a.headline").all_inner_texts()
    page.screenshot(path=artifacts / "preview-desktop.png", full_page=True)
    page.close()
    assert len(headlines) == 10
    # In the edition's order (which story leads is the ranking's business: tests/curate).
    assert headlines == [item.headline for item in items(sqlite_session, edition.id)]
