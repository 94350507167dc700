"""Every console page reachable from the dashboard and every public page, in Chromium at a
phone's 375 px and a laptop's 1280 px, on the sample world with one edition really sent:
no page scrolls sideways, every control has a name, every page starts with a skip link;
and the draft's controls work one-handed at 375 px."""

from __future__ import annotations

import re
import time

from playwright.sync_api import expect

from digest.curate.editions import build_draft, items, todays_slot
from digest.mail.backends import get_backend
from digest.send.service import send_inline
from tests.factories import approved_edition, sample_world
from tests.smtp_server import free_port
from tests.web.page_checks import crawl, page_problems
from tests.web.server import running
from tests.web.staff.conftest import browser_sign_in

WIDTHS = (375, 1280)
# The search a person types to find subscribers: it lists them all in the sample world.
SUBSCRIBER_SEARCH = "/staff/subscribers?q=example"


def mailed_link(smtp_server, to: str, kind: str, timeout: float = 15) -> str:
    """The first `kind` link (confirm, preferences...) in the newest mail to `to`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for message in reversed(list(smtp_server.messages)):
            if to in message["To"]:
                body = message.get_body(("html", "plain")).get_content()
                found = re.search(rf'https?://[^\s"<>]+/{kind}/[^\s"<>]+', body)
                if found:
                    return found.group(0).replace("&amp;", "&")
        time.sleep(0.1)
    raise AssertionError(f"no {kind} link mailed to {to}")


class Inspector:
    """Checks pages at one width, keeping each page's problems and a screenshot."""

    def __init__(self, page, width: int, base: str, artifacts):
        self.page, self.width, self.base, self.artifacts = page, width, base, artifacts
        self.problems: dict[str, list[str]] = {}

    def pages(self, known: list[str], start: list[str], skip: tuple[str, ...]) -> list[str]:
        """Checks the pages the crawl found at an earlier width, or crawls from `start`
        (checking each page found) and returns them."""
        for url in known:
            self.check(url, url)
        return known or crawl(self.page, start, within=f"{self.base}/", skip=skip, visit=self.check)

    def check(self, label: str, url: str | None = None) -> None:
        if url is not None:
            self.page.goto(url)
        self.page.wait_for_load_state()
        found = page_problems(self.page)
        if found:
            self.problems[f"{label} at {self.width}px"] = found
        self.page.evaluate("() => document.activeElement.blur()")  # the picture without the skip link
        path = re.sub(r"/[^/]{30,}", "/signed", label.removeprefix(self.base))  # no tokens in names
        name = re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-") or "home"
        self.page.screenshot(path=self.artifacts / f"width-{self.width}-{name}.png", full_page=True)


def test_every_page_fits_phones_and_laptops(web_settings, sqlite_session, staff, smtp_server,
                                            browser, artifacts):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = web_settings.model_copy(update={"public_url": base})
    world = sample_world(sqlite_session, settings)
    morning, tech = world["morning-briefing"], world["tech-and-science"]
    sent = approved_edition(sqlite_session, morning)
    send_inline(sqlite_session, settings, get_backend(settings), sent.id)
    draft = build_draft(sqlite_session, tech, todays_slot(tech))
    sqlite_session.commit()
    reader = next(m["To"].addresses[0].addr_spec for m in smtp_server.messages)
    signed = [mailed_link(smtp_server, reader, kind) for kind in ("preferences", "unsubscribe")]

    console_pages: list[str] = []
    public_pages: list[str] = []
    problems: dict[str, list[str]] = {}
    with running(settings, port):
        for width in WIDTHS:
            context = browser.new_context(viewport={"width": width, "height": 900})
            inspect = Inspector(context.new_page(), width, base, artifacts)
            inspect.check("staff sign-in", f"{base}/staff/login")
            inspect.check("not found", f"{base}/archive/no-such-list")
            browser_sign_in(inspect.page, base, "admin")
            console_pages = inspect.pages(console_pages, [f"{base}/staff/", base + SUBSCRIBER_SEARCH],
                                          skip=(f"{base}/staff/logout",))
            public_pages = inspect.pages(public_pages, [f"{base}/", *signed],
                                         skip=(f"{base}/staff", f"{base}/api/"))
            check_forms(inspect, smtp_server, morning.slug, f"reader-{width}@example.org")
            problems.update(inspect.problems)
            context.close()

        context = browser.new_context(viewport={"width": 375, "height": 800}, has_touch=True)
        page = context.new_page()
        browser_sign_in(page, base, "editor")
        edit_one_handed(page, f"{base}/staff/editions/{draft.id}", [i.headline for i in items(sqlite_session, draft.id)])
        page.screenshot(path=artifacts / "width-375-draft-after-editing.png", full_page=True)
        context.close()

    # The crawl reached what the console offers, not just the dashboard.
    assert any(f"/staff/editions/{sent.id}/send" in u for u in console_pages), console_pages
    assert any(re.search(r"/staff/subscribers/\d+$", u) for u in console_pages), console_pages
    assert any(f"/archive/{morning.slug}/{sent.id}" in u for u in public_pages), public_pages
    assert not problems, "\n".join(f"{page}: {'; '.join(found)}" for page, found in problems.items())


def check_forms(inspect: Inspector, smtp_server, slug: str, email: str) -> None:
    """The public pages only a form leads to: "check your inbox", confirm, confirmed, and
    the landing of the form the console gives out for other sites."""
    page, base = inspect.page, inspect.base
    page.goto(f"{base}/subscribe/{slug}")
    page.fill("#email", email)
    page.click("button:has-text('Subscribe')")
    inspect.check("sign-up done")
    inspect.check("confirm", mailed_link(smtp_server, email, "confirm"))
    page.click("form button[type=submit]")
    inspect.check("confirmed")
    page.goto(f"{base}/staff/lists/{slug}/signup-form")
    snippet = page.input_value("#snippet")
    page.set_content(f"<!DOCTYPE html><title>A publisher's page</title>{snippet}")
    page.fill("form.digest-signup input[type=email]", "embed-" + email)
    page.click("form.digest-signup button, form.digest-signup [type=submit]")
    page.wait_for_url(f"{base}/embed/**")
    inspect.check("embed sign-up landing")


def edit_one_handed(page, url: str, headlines: list[str]) -> None:
    """Reorder, pin, remove and approve at 375 px, each control in view without scrolling
    sideways (a tap, not a mouse: Playwright would scroll a hidden control into view)."""
    page.goto(url)

    def tap(name: str) -> None:
        button = page.get_by_role("button", name=name, exact=True)
        button.scroll_into_view_if_needed()
        box = button.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 375, f"{name!r} is outside 375px: {box}"
        assert box["height"] >= 44, f"{name!r} is too small for a fingertip: {box}"
        assert page.evaluate("window.scrollX") == 0, f"the page scrolled sideways to show {name!r}"
        button.tap()
        page.wait_for_load_state()

    story = page.locator("ol.items > li")
    tap(f"Move “{headlines[1]}” up")
    expect(page.locator("ol.items a.headline").first).to_have_text(headlines[1])
    tap(f"Pin “{headlines[2]}”")
    expect(story.filter(has_text=headlines[2])).to_have_class(re.compile(r"\bpinned\b"))
    tap(f"Remove “{headlines[3]}”")
    expect(story.filter(has_text=headlines[3])).to_have_count(0)
    tap("Approve")
    expect(page.locator(".flash")).to_contain_text("Approved")
