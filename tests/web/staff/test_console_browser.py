"""End to end in Chromium: an editor shapes and approves a draft, ops send it and watch it
reach 100% against a real SMTP server."""

from playwright.sync_api import expect
from sqlmodel import select

from digest.curate.editions import build_draft, items, todays_slot
from digest.models import EditionItem
from tests.factories import active_emails, sample_world
from tests.smtp_server import free_port
from tests.web.server import running
from tests.web.staff.conftest import browser_sign_in


def test_editor_shapes_and_approves_then_ops_send_to_everyone(
        web_settings, sqlite_session, staff, smtp_server, browser, artifacts):
    tech = sample_world(sqlite_session, web_settings)["tech-and-science"]
    edition = build_draft(sqlite_session, tech, todays_slot(tech))
    sqlite_session.commit()
    before = [i.headline for i in items(sqlite_session, edition.id)]
    expected = active_emails(sqlite_session, tech)
    new_summary = "An editor's own summary: short, plain & <b>inert</b>."

    with running(web_settings, free_port()) as base:
        context = browser.new_context(viewport={"width": 1280, "height": 1000})
        page = context.new_page()
        browser_sign_in(page, base, "editor")
        page.click(f"a[href='/staff/editions/{edition.id}']")
        third = page.locator("ol.items > li").nth(2)
        # Every control names its story (screen readers hear the label, not "Move").
        third.get_by_role("spinbutton", name=f"New position of “{before[2]}”").fill("1")
        third.get_by_role("button", name=f"Move “{before[2]}” to that position").click()
        page.wait_for_load_state()
        assert page.locator("ol.items a.headline").all_inner_texts()[0] == before[2]
        first = page.locator("ol.items > li").first
        first.locator("summary").click()
        first.locator("textarea[name=summary]").fill(new_summary)
        first.get_by_role("button", name=f"Save “{before[2]}”").click()
        page.wait_for_load_state()
        assert page.locator("ol.items p.summary").first.inner_text() == new_summary
        page.screenshot(path=artifacts / "console-draft.png", full_page=True)
        page.click("button:has-text('Approve')")
        page.wait_for_load_state()
        assert "Approved" in page.locator(".flash").inner_text()
        page.click("button:has-text('Sign out')")
        context.close()

        context = browser.new_context(viewport={"width": 1100, "height": 800})
        page = context.new_page()
        browser_sign_in(page, base, "ops")
        page.goto(f"{base}/staff/editions/{edition.id}/send")
        page.click("button:has-text('Start sending')")
        # The page's own script polls the API; the CSP forbids eval, so wait on the DOM.
        expect(page.locator("[data-field=percent]")).to_have_text("100", timeout=60_000)
        expect(page.locator("[data-field=status]")).to_have_text("sent", timeout=30_000)
        assert page.locator("[data-field=sent]").inner_text() == str(len(expected))
        page.screenshot(path=artifacts / "console-progress.png", full_page=True)
        context.close()

    assert sorted(smtp_server.recipients()) == sorted(expected)
    html = smtp_server.messages[0].get_body(("html",)).get_content()
    assert "An editor&#39;s own summary: short, plain &amp; &lt;b&gt;inert&lt;/b&gt;." in html \
        or "An editor's own summary: short, plain &amp; &lt;b&gt;inert&lt;/b&gt;." in html
    top = sqlite_session.exec(select(EditionItem).where(EditionItem.edition_id == edition.id)
                              .order_by(EditionItem.position)).first()
    assert top.headline == before[2]
