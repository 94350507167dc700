"""The embeddable form's endpoint (POST /embed/<slug>/subscribe), posted as a browser on
another site posts it: no CSRF cookie, an Origin header, Accept: text/html."""

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from digest.models import Subscriber, Subscription
from digest.web.app import create_app
from tests.conftest import make_settings
from tests.web.conftest import arrived

PUBLISHER = "https://news.example.com"
EMBED = "/embed/tech-and-science/subscribe"


@pytest.fixture
def embed_settings(tmp_path, web_settings, smtp_server):
    def make(**overrides):
        return make_settings(tmp_path, web_settings.database_url, mail_backend="smtp",
                             smtp_port=smtp_server.port, public_url="http://testserver", **overrides)
    return make


def post(client: TestClient, origin: str | None = PUBLISHER, **fields):
    headers = {"Accept": "text/html"} | ({"Origin": origin} if origin else {})
    return client.post(EMBED, data=fields, headers=headers)


def subscription(session, email: str):
    session.expire_all()
    return session.exec(select(Subscription).join(Subscriber, Subscriber.id == Subscription.subscriber_id)
                        .where(Subscriber.email == email)).one_or_none()


def test_a_post_from_another_site_starts_double_opt_in(client, smtp_server, sqlite_session):
    answer = post(client, email="Reader@Example.org", name="Reader", topics=["science", "gardening"])
    assert answer.status_code == 200 and "<h1>Check your inbox</h1>" in answer.text
    assert not answer.cookies      # nothing to carry back to the other site
    pending = subscription(sqlite_session, "reader@example.org")
    assert (pending.status, pending.topics) == ("pending", ["science"])   # unknown topics dropped
    assert arrived(smtp_server, 1)[0]["To"] == "reader@example.org"


def test_the_honeypot_gets_the_usual_page_and_nothing_else(client, smtp_server, sqlite_session):
    caught = post(client, email="bot@example.org", website="http://spam.example")
    real = post(client, email="person@example.org")
    assert caught.status_code == 200 and caught.text == real.text
    assert subscription(sqlite_session, "bot@example.org") is None
    # Notices go out in order: had the bot's been queued, it would have arrived first.
    arrived(smtp_server, 1)
    assert smtp_server.recipients() == ["person@example.org"]


def test_a_bad_address_is_shown_on_this_apps_form_to_correct(client, smtp_server, sqlite_session):
    answer = post(client, email="reader@example", name="Reader", topics=["tech"])
    assert answer.status_code == 422
    assert 'id="form-error"' in answer.text and "Please check the address" in answer.text
    # This app's own form, filled in as it was sent, with a CSRF cookie to post it again.
    assert 'action="/subscribe/tech-and-science"' in answer.text
    assert 'value="reader@example"' in answer.text and 'value="tech" checked' in answer.text
    assert "digest_csrf" in answer.cookies
    assert subscription(sqlite_session, "reader@example") is None
    assert smtp_server.messages == []


def test_over_the_ip_limit_is_refused_with_a_clear_page(embed_settings, smtp_server, sqlite_session):
    with TestClient(create_app(embed_settings(signup_limit_per_ip="2 per hour"))) as client:
        answers = [post(client, email=f"n{i}@example.org") for i in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert "<h1>Please try again later</h1>" in answers[2].text
    assert "Too many sign-ups from your network" in answers[2].text
    assert subscription(sqlite_session, "n2@example.org") is None
    arrived(smtp_server, 2)


def test_one_address_gets_a_bounded_number_of_confirmations(embed_settings, smtp_server):
    # A forged form can make this app mail a stranger, but only this often a day.
    settings = embed_settings(confirmations_per_day=2, signup_limit_per_address="10 per hour")
    with TestClient(create_app(settings)) as client:
        answers = [post(client, email="victim@example.org") for _ in range(6)]
        post(client, email="sentinel@example.org")
    assert {a.status_code for a in answers} == {200}
    assert len({a.text for a in answers}) == 1     # the same page every time
    arrived(smtp_server, 3)
    assert smtp_server.recipients() == ["victim@example.org"] * 2 + ["sentinel@example.org"]


def test_an_unknown_list_is_a_clear_404(client):
    answer = client.post("/embed/no-such-list/subscribe", data={"email": "a@example.org"},
                         headers={"Accept": "text/html", "Origin": PUBLISHER})
    assert answer.status_code == 404 and "There is no such newsletter." in answer.text


@pytest.mark.parametrize("headers, allowed", [
    ({"Origin": PUBLISHER}, True),
    ({"Referer": f"{PUBLISHER}/2026/12/some-article?x=1"}, True),      # no Origin: its Referer
    ({"Origin": "http://testserver"}, True),                            # this app's own pages
    ({"Origin": "https://news.example.com.evil.example"}, False),
    ({"Origin": "http://news.example.com"}, False),                      # another scheme
    ({"Origin": "null", "Referer": f"{PUBLISHER}/"}, True),
    ({"Origin": "null"}, False),
    ({}, False),
])
def test_with_origins_set_only_their_forms_are_taken(embed_settings, sqlite_session, smtp_server,
                                                     headers, allowed):
    with TestClient(create_app(embed_settings(signup_origins=PUBLISHER))) as client:
        answer = client.post(EMBED, data={"email": "o@example.org", "name": "O"},
                             headers={"Accept": "text/html", **headers})
    if allowed:
        assert answer.status_code == 200 and "Check your inbox" in answer.text
        assert subscription(sqlite_session, "o@example.org").status == "pending"
    else:
        assert answer.status_code == 403
        assert "not on a site allowed to sign people up" in answer.text
        assert 'action="/subscribe/tech-and-science"' in answer.text and 'value="o@example.org"' in answer.text
        assert subscription(sqlite_session, "o@example.org") is None


def test_a_local_time_lists_form_asks_for_the_zone_and_the_reader_gets_it(client, smtp_server, sqlite_session,
                                                                         web_settings):
    from lxml import html

    from digest.models import DigestList
    from digest.web.staff.lists import embed_snippet

    tech = sqlite_session.exec(select(DigestList).where(DigestList.slug == "tech-and-science")).one()
    tech.deliver_at = "local"
    sqlite_session.add(tech)
    sqlite_session.commit()
    form = html.fragment_fromstring(embed_snippet(web_settings, tech))
    zone = form.xpath("//label/select[@name='timezone']")[0]
    assert zone.xpath(".//option[@selected]/@value") == [tech.timezone]
    assert "Asia/Tokyo" in zone.xpath(".//option/@value") and not form.xpath("//*[@id]")

    answer = post(client, email="tokyo@example.org", timezone="Asia/Tokyo")
    assert answer.status_code == 200 and "<h1>Check your inbox</h1>" in answer.text
    sqlite_session.expire_all()
    reader = sqlite_session.exec(select(Subscriber).where(Subscriber.email == "tokyo@example.org")).one()
    assert reader.timezone == "Asia/Tokyo"
