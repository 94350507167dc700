"""End to end in a real Chromium: sign up on the form served by uvicorn, confirm from the
mail a real SMTP server received, see the subscription active, then unsubscribe."""

from sqlmodel import select

from digest.models import Subscriber, Subscription
from tests.conftest import make_settings
from tests.smtp_server import free_port
from tests.subscribers.helpers import link
from tests.web.conftest import arrived
from tests.web.server import running


def test_sign_up_confirm_and_unsubscribe_in_a_browser(tmp_path, web_settings, smtp_server,
                                                     sqlite_session, browser, artifacts):
    port = free_port()
    settings = make_settings(tmp_path, web_settings.database_url, mail_backend="smtp",
                             smtp_port=smtp_server.port, public_url=f"http://127.0.0.1:{port}")
    status = (select(Subscription.status).join(Subscriber, Subscriber.id == Subscription.subscriber_id)
              .where(Subscriber.email == "lin@example.org"))
    with running(settings, port) as base:
        page = browser.new_page(viewport={"width": 390, "height": 844})   # a phone
        page.goto(f"{base}/subscribe/tech-and-science")
        page.get_by_label("Email address").fill("Lin@Example.org")
        page.get_by_label("Name").fill("Lin")
        page.get_by_label("Science").check()
        page.screenshot(path=artifacts / "signup-phone.png", full_page=True)
        page.get_by_role("button", name="Subscribe").click()
        page.get_by_role("heading", name="Check your inbox").wait_for()

        page.goto(link(arrived(smtp_server, 1)[0], "confirm"))
        assert smtp_server.recipients() == ["lin@example.org"]
        page.get_by_role("button", name="Confirm my subscription").click()
        assert page.locator("#subscription-status").inner_text() == "active"
        sqlite_session.expire_all()
        assert sqlite_session.exec(status).one() == "active"

        welcome = arrived(smtp_server, 2)[1]
        assert welcome["Subject"] == "Welcome to Tech & Science Weekly"
        page.goto(link(welcome, "unsubscribe"))
        page.get_by_role("button", name="Unsubscribe from Tech & Science Weekly").click()
        page.get_by_role("heading", name="You are unsubscribed").wait_for()
        page.screenshot(path=artifacts / "unsubscribed-phone.png", full_page=True)
        page.close()
    sqlite_session.expire_all()
    assert sqlite_session.exec(status).one() == "unsubscribed"
