"""The API docs page in Chromium with every request off this machine blocked: Swagger UI
comes from the app itself, renders every operation under the page's strict CSP, and its
Authorize button sends the token."""

from __future__ import annotations

from urllib.parse import urlsplit

from digest.staff.accounts import create_api_token
from tests.smtp_server import free_port
from tests.web.server import running
from tests.web.staff.conftest import browser_sign_in


def test_the_docs_page_works_offline_and_authorizes_with_a_token(
        web_settings, sqlite_session, staff, browser, artifacts):
    token = create_api_token(sqlite_session, staff["editor"], "docs")
    sqlite_session.commit()
    blocked, problems = [], []

    def only_this_machine(route):
        if urlsplit(route.request.url).hostname in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    with running(web_settings, free_port()) as base:
        context = browser.new_context(viewport={"width": 1280, "height": 1000})
        context.route("**/*", only_this_machine)
        page = context.new_page()
        # CSP refusals and script errors are reported on the console.
        page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: problems.append(str(error)))
        browser_sign_in(page, base, "editor")
        schema = page.request.get(f"{base}/api/openapi.json").json()
        policy = page.goto(f"{base}/api/docs").headers["content-security-policy"]
        assert "script-src 'self';" in policy and "http" not in policy
        page.locator(".opblock").first.wait_for(timeout=20000)
        paths = {(o.get_attribute("class").split("opblock-")[-1].split()[0].upper(), o.locator(
            ".opblock-summary-path").get_attribute("data-path")) for o in page.locator(".opblock").all()}
        expected = {(m.upper(), p) for p, methods in schema["paths"].items() for m in methods}
        assert paths == expected
        assert page.locator("button.authorize").is_visible()

        cookie_only = page.request.post(f"{base}/api/lists/tech-and-science/editions")
        assert cookie_only.status == 403  # a write with the session cookie needs the CSRF header
        page.click("button.authorize")
        page.locator(".auth-container input").fill(token)
        page.click(".auth-btn-wrapper button.authorize")
        page.click(".auth-btn-wrapper button.btn-done")
        build = page.locator("#operations-staff-build_edition_api_lists__slug__editions_post")
        build.locator(".opblock-summary").click()
        build.locator(".try-out__btn").click()
        build.locator("input[placeholder='slug']").fill("tech-and-science")
        build.locator(".execute").click()
        status = build.locator(".live-responses-table tbody .response-col_status").first
        status.wait_for(timeout=20000)
        page.screenshot(path=artifacts / "api-docs.png", full_page=False)
        # Accepted, unlike the same write with the cookie alone: the token went with it.
        assert status.inner_text().strip() == "201"
        context.close()
    assert blocked == []
    assert problems == []
