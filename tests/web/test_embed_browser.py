"""In a real Chromium, from a publisher's page on another site: the sign-up form the
console shows, pasted into an article, and a script's fetch() to the JSON sign-up."""

from dataclasses import dataclass

import pytest
from sqlmodel import select

from digest.models import Subscriber, Subscription
from digest.staff.accounts import add_user
from digest.web.public import ACCEPTED
from tests.conftest import make_settings
from tests.smtp_server import free_port
from tests.web.conftest import arrived
from tests.web.publisher import publisher_site
from tests.web.server import running
from tests.web.staff.conftest import PASSWORD, browser_sign_in

ARTICLE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Free buses at weekends</title></head>
<body><article><h1>City council votes for free buses at weekends</h1>
<p>The trial starts in spring and runs for a year.</p></article>
<footer><h2>Subscribe to our free newsletter</h2>
{snippet}
</footer></body></html>"""


@dataclass
class Setup:
    base: str           # the app
    article: str        # the publisher's page carrying the console's form


@pytest.fixture
def article_with_form(tmp_path, web_settings, sqlite_session, smtp_server, browser):
    """The app (allowing the publisher's site) and the publisher's article, into which the
    form was pasted as an editor copied it from the console in the browser."""
    add_user(sqlite_session, email="editor@example.org", password=PASSWORD, role="editor")
    sqlite_session.commit()
    port = free_port()
    with publisher_site() as site:
        settings = make_settings(tmp_path, web_settings.database_url, mail_backend="smtp",
                                 smtp_port=smtp_server.port, public_url=f"http://127.0.0.1:{port}",
                                 signup_origins=site.origin)
        with running(settings, port) as base:
            console = browser.new_context()
            page = console.new_page()
            browser_sign_in(page, base, "editor")
            page.get_by_role("link", name="Lists").click()
            page.get_by_role("row", name="Tech & Science Weekly").get_by_role(
                "link", name="Sign-up form for your site").click()
            snippet = page.locator("#snippet").input_value()
            console.close()
            assert snippet.startswith(f'<form class="digest-signup" method="post" action="{base}/embed/')
            site.pages["/2026/12/free-buses"] = ARTICLE.format(snippet=snippet)
            yield Setup(base, f"{site.origin}/2026/12/free-buses")


def pending(session, email: str):
    session.expire_all()
    return session.exec(select(Subscription).join(Subscriber, Subscriber.id == Subscription.subscriber_id)
                        .where(Subscriber.email == email)).one_or_none()


def test_the_form_on_the_publishers_page_signs_a_reader_up(article_with_form, browser, smtp_server,
                                                           sqlite_session, artifacts):
    reader = browser.new_context(viewport={"width": 390, "height": 844})
    page = reader.new_page()
    page.goto(article_with_form.article)
    page.get_by_label("Email address").fill("Reader@Example.org")
    page.get_by_label("Science").check()
    page.screenshot(path=artifacts / "embedded-signup-article.png", full_page=True)
    page.get_by_role("button", name="Subscribe to Tech & Science Weekly").click()
    page.get_by_role("heading", name="Check your inbox").wait_for()
    assert page.url == f"{article_with_form.base}/embed/tech-and-science/subscribe"
    assert page.get_by_role("status").inner_text() == ACCEPTED
    reader.close()

    confirmation = arrived(smtp_server, 1)[0]
    assert confirmation["To"] == "reader@example.org"
    assert confirmation["Subject"] == "Confirm your subscription to Tech & Science Weekly"
    subscription = pending(sqlite_session, "reader@example.org")
    assert (subscription.status, subscription.topics) == ("pending", ["science"])


def test_a_mistyped_address_is_corrected_on_the_apps_own_form(article_with_form, browser, smtp_server,
                                                              sqlite_session):
    # The browser lets "reader@example" through (no dot needed in HTML); the app does not.
    reader = browser.new_context()
    page = reader.new_page()
    page.goto(article_with_form.article)
    page.get_by_label("Email address").fill("reader@example")
    page.get_by_label("Tech").check()
    page.get_by_role("button", name="Subscribe to Tech & Science Weekly").click()
    page.get_by_role("alert").wait_for()
    assert page.url.startswith(article_with_form.base)
    assert page.get_by_role("alert").inner_text().startswith("Please check the address")
    # The app's form, filled in as sent, posts with the CSRF cookie this answer set.
    assert page.get_by_label("Tech").is_checked()
    page.get_by_label("Email address").fill("reader@example.org")
    page.get_by_role("button", name="Subscribe").click()
    page.get_by_role("heading", name="Check your inbox").wait_for()
    reader.close()
    assert arrived(smtp_server, 1)[0]["To"] == "reader@example.org"
    assert pending(sqlite_session, "reader@example.org").topics == ["tech"]
    assert pending(sqlite_session, "reader@example") is None


def test_a_script_on_an_allowed_site_may_use_the_json_sign_up_and_others_may_not(
        tmp_path, web_settings, smtp_server, sqlite_session, browser):
    port = free_port()
    call = """async ([url, email]) => {
        try {
            const answer = await fetch(url, {method: "POST", headers: {"Content-Type": "application/json"},
                                             body: JSON.stringify({email, topics: ["tech"]})});
            return `${answer.status} ${(await answer.json()).detail}`;
        } catch (error) { return `${error.name}: ${error.message}`; }
    }"""
    with publisher_site("127.0.0.2") as allowed, publisher_site("127.0.0.3") as other:
        settings = make_settings(tmp_path, web_settings.database_url, mail_backend="smtp",
                                 smtp_port=smtp_server.port, public_url=f"http://127.0.0.1:{port}",
                                 signup_origins=allowed.origin)
        api = f"http://127.0.0.1:{port}/api/lists/tech-and-science/subscribe"
        allowed.pages["/"] = other.pages["/"] = "<!DOCTYPE html><title>News</title><p>News</p>"
        with running(settings, port):
            context = browser.new_context()
            page = context.new_page()
            console = []
            page.on("console", lambda message: console.append(message.text))
            page.goto(f"{allowed.origin}/")
            granted = page.evaluate(call, [api, "script@example.org"])
            page.goto(f"{other.origin}/")
            refused = page.evaluate(call, [api, "stranger@example.org"])
            context.close()
    assert granted == f"202 {ACCEPTED}"
    assert refused == "TypeError: Failed to fetch"
    assert any("blocked by CORS policy" in text and other.origin in text for text in console)
    # The preflight was refused, so the sign-up itself was never sent.
    assert pending(sqlite_session, "stranger@example.org") is None
    assert pending(sqlite_session, "script@example.org").topics == ["tech"]
    assert arrived(smtp_server, 1)[0]["To"] == "script@example.org"
