"""The console's lists and, per list, the sign-up form to paste into the publisher's pages."""

import html
import re

from fastapi.testclient import TestClient

from digest.web.app import create_app
from tests.conftest import make_settings
from tests.web.staff.conftest import sign_in


def snippet_of(page_html: str) -> str:
    """The form as the console shows it (in its textarea), as it is copied out of it."""
    shown = re.search(r'<textarea id="snippet"[^>]*>(.*?)</textarea>', page_html, re.DOTALL).group(1)
    return html.unescape(shown)


def test_an_editor_finds_every_list_with_its_form(signed_in):
    client, _ = signed_in("editor")
    page = client.get("/staff/lists")
    assert page.status_code == 200
    assert 'href="/staff/lists"' in page.text                       # in the console's menu
    for slug in ("morning-briefing", "tech-and-science"):
        assert f'href="/staff/lists/{slug}/signup-form"' in page.text
    assert "tech, science" in page.text


def test_the_form_has_the_lists_topics_and_the_honeypot_and_no_script(signed_in):
    client, _ = signed_in("editor")
    page = client.get("/staff/lists/tech-and-science/signup-form")
    assert page.status_code == 200
    form = snippet_of(page.text)
    assert form.startswith('<form class="digest-signup" method="post" '
                           'action="http://testserver/embed/tech-and-science/subscribe"')
    assert re.findall(r'name="topics" value="(\w+)"', form) == ["tech", "science"]
    assert 'name="email" required' in form and 'name="website" tabindex="-1"' in form
    assert "Subscribe to Tech &amp; Science Weekly" in form            # escaped once, for the page
    assert "<script" not in form and " id=" not in form and "csrf" not in form
    assert "It works on any site" in page.text


def test_a_list_without_sections_gets_no_topics(signed_in):
    client, _ = signed_in("ops")
    form = snippet_of(client.get("/staff/lists/morning-briefing/signup-form").text)
    assert "topics" not in form and 'name="website"' in form


def test_the_page_names_the_allowed_sites(tmp_path, web_settings, staff):
    settings = make_settings(tmp_path, web_settings.database_url, public_url="https://news.example.org",
                             signup_origins="https://www.example.org")
    with TestClient(create_app(settings), base_url="https://testserver") as client:
        sign_in(client, "editor")
        page = client.get("/staff/lists/tech-and-science/signup-form")
    assert "It works on these sites only" in page.text and "https://www.example.org" in page.text
    assert 'action="https://news.example.org/embed/tech-and-science/subscribe"' in snippet_of(page.text)


def test_an_unknown_list_is_named(signed_in):
    client, _ = signed_in("editor")
    page = client.get("/staff/lists/no-such-list/signup-form")
    assert page.status_code == 200 and page.url.path == "/staff/lists"
    assert "There is no list &#39;no-such-list&#39;." in page.text



def test_a_local_time_list_shows_its_first_wave_and_its_send_page_the_waves_left(signed_in, web_settings,
                                                                                 sqlite_session):
    from datetime import timedelta

    from sqlmodel import select

    from digest.models import Delivery, DigestList, Subscriber, Subscription, utcnow
    from digest.send.service import start_send
    from tests.factories import approved_edition, sample_world

    morning = sample_world(sqlite_session, web_settings)["morning-briefing"]
    client, _ = signed_in("ops")
    assert "first wave" not in client.get("/staff/lists").text
    morning.deliver_at = "local"
    reader = sqlite_session.exec(select(Subscriber).join(Subscription).where(
        Subscription.list_id == morning.id, Subscription.status == "active")).first()
    reader.timezone = "Pacific/Auckland"
    sqlite_session.add_all([morning, reader])
    sqlite_session.commit()
    page = client.get("/staff/lists").text
    assert "in each reader's zone" in html.unescape(page)
    assert re.search(r"first wave at \d{4}-\d\d-\d\d \d\d:\d\d UTC", page)

    edition = approved_edition(sqlite_session, sqlite_session.get(DigestList, morning.id))
    start_send(sqlite_session, web_settings, edition.id)
    later = utcnow() + timedelta(hours=3)  # every reader's wave still ahead, whatever the clock says
    for delivery in sqlite_session.exec(select(Delivery).where(Delivery.edition_id == edition.id)).all():
        delivery.not_before = later
        sqlite_session.add(delivery)
    sqlite_session.commit()
    send_page = client.get(f"/staff/editions/{edition.id}/send").text
    assert f"wait for a later wave, the next at {later:%Y-%m-%d %H:%M} UTC" in send_page
