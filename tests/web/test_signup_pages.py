"""Sign-up through the form and the JSON API: same answer for everyone, limits, honeypot."""

from fastapi.testclient import TestClient
from sqlmodel import select

from digest.models import Subscriber, Subscription
from digest.web.app import create_app
from tests.conftest import make_settings
from tests.subscribers.helpers import link, path_of
from tests.web.conftest import arrived, sign_up


def test_the_answer_is_the_same_for_new_pending_and_active_addresses(client, smtp_server):
    new = sign_up(client, email="newcomer@example.org")
    pending = sign_up(client, email="newcomer@example.org")
    active = sign_up(client, email="ada.lovelace@example.com")   # active in the sample data
    assert new.status_code == pending.status_code == active.status_code == 200
    assert new.text == pending.text == active.text
    arrived(smtp_server, 2)
    assert smtp_server.recipients() == ["newcomer@example.org", "newcomer@example.org"]


def test_confirming_through_the_pages(client, smtp_server, sqlite_session):
    sign_up(client, email="Kim@Example.org", name="Kim", topics=["science"])
    confirm = path_of(link(arrived(smtp_server, 1)[0], "confirm"))
    page = client.get(confirm)
    assert page.status_code == 200 and "Confirm my subscription" in page.text
    kim = sqlite_session.exec(select(Subscriber).where(Subscriber.email == "kim@example.org")).one()
    status = select(Subscription.status).where(Subscription.subscriber_id == kim.id)
    assert sqlite_session.exec(status).one() == "pending"      # a GET changes nothing
    done = client.post(confirm)
    assert done.status_code == 200 and 'id="subscription-status">active<' in done.text
    assert sqlite_session.exec(status).one() == "active"
    assert arrived(smtp_server, 2)[1]["Subject"] == "Welcome to Tech & Science Weekly"


def test_a_bad_address_is_named_and_nothing_sent(client, smtp_server):
    answer = sign_up(client, email="nobody@@example")
    assert answer.status_code == 422
    assert "Please check the address" in answer.text and 'value="nobody@@example"' in answer.text
    assert smtp_server.messages == []


def test_the_honeypot_gets_the_usual_answer_and_no_mail(client, smtp_server):
    answer = sign_up(client, email="bot@example.org", website="http://spam.example")
    assert answer.status_code == 200 and "check your inbox" in answer.text
    assert smtp_server.messages == []


def test_a_form_post_without_the_csrf_cookie_is_refused(web_settings, smtp_server):
    with TestClient(create_app(web_settings)) as stranger:
        answer = stranger.post("/subscribe/tech-and-science",
                               data={"email": "x@example.org", "csrf_token": "forged"})
    assert answer.status_code == 403
    assert smtp_server.messages == []


def test_the_json_api(client, smtp_server):
    accepted = client.post("/api/lists/tech-and-science/subscribe",
                           json={"email": "api@example.org", "topics": ["tech"]})
    assert accepted.status_code == 202
    refused = client.post("/api/lists/tech-and-science/subscribe", json={"email": "nope"})
    assert refused.status_code == 422 and "invalid email address" in refused.json()["detail"]
    assert client.post("/api/lists/no-such-list/subscribe", json={"email": "a@example.org"}).status_code == 404
    arrived(smtp_server, 1)
    assert smtp_server.recipients() == ["api@example.org"]


def test_per_ip_and_per_address_limits(tmp_path, web_settings, smtp_server):
    settings = make_settings(tmp_path, web_settings.database_url, mail_backend="smtp",
                             smtp_port=smtp_server.port, signup_limit_per_ip="4 per hour",
                             signup_limit_per_address="2 per hour", confirmations_per_day=10)
    with TestClient(create_app(settings)) as client:
        answers = [client.post("/api/lists/tech-and-science/subscribe", json={"email": "same@example.org"})
                   for _ in range(3)]
        answers.append(client.post("/api/lists/tech-and-science/subscribe", json={"email": "b@example.org"}))
        over = client.post("/api/lists/tech-and-science/subscribe", json={"email": "c@example.org"})
    assert [a.status_code for a in answers] == [202, 202, 202, 202]
    assert over.status_code == 429
    arrived(smtp_server, 3)
    assert smtp_server.recipients() == ["same@example.org", "same@example.org", "b@example.org"]


def test_limits_are_shared_through_redis(tmp_path, web_settings, smtp_server, redis_url):
    import uuid
    settings = make_settings(tmp_path, web_settings.database_url, mail_backend="smtp",
                             smtp_port=smtp_server.port, redis_url=redis_url,
                             celery_queue=f"test-{uuid.uuid4().hex}", signup_limit_per_ip="2 per hour")
    first, second = create_app(settings), create_app(settings)   # two web processes
    with TestClient(first) as one, TestClient(second) as two:
        codes = [one.post("/api/lists/tech-and-science/subscribe", json={"email": "r1@example.org"}).status_code,
                 two.post("/api/lists/tech-and-science/subscribe", json={"email": "r2@example.org"}).status_code,
                 one.post("/api/lists/tech-and-science/subscribe", json={"email": "r3@example.org"}).status_code]
    assert codes == [202, 202, 429]
    assert sorted(m["To"] for m in arrived(smtp_server, 2)) == ["r1@example.org", "r2@example.org"]


def local_time(session, slug: str = "tech-and-science") -> None:
    from digest.models import DigestList
    digest_list = session.exec(select(DigestList).where(DigestList.slug == slug)).one()
    digest_list.deliver_at, digest_list.timezone = "local", "Europe/London"
    session.add(digest_list)
    session.commit()


def test_a_local_time_list_asks_for_the_readers_zone_defaulting_to_its_own(client, smtp_server, sqlite_session):
    assert 'name="timezone"' not in client.get("/subscribe/tech-and-science").text  # a list-time list
    local_time(sqlite_session)
    form = client.get("/subscribe/tech-and-science").text
    assert '<optgroup label="Asia">' in form and '<option value="Europe/London" selected>' in form
    sign_up(client, email="tokyo@example.org", timezone="Asia/Tokyo")
    sign_up(client, email="london@example.org", timezone="Europe/London")
    zones = dict(sqlite_session.exec(select(Subscriber.email, Subscriber.timezone).where(
        Subscriber.email.in_(["tokyo@example.org", "london@example.org"]))).all())
    # The list's own zone is kept as none: the reader follows the list if it moves.
    assert zones == {"tokyo@example.org": "Asia/Tokyo", "london@example.org": None}


def test_a_zone_not_in_the_database_is_refused_with_the_form_again(client, smtp_server, sqlite_session):
    local_time(sqlite_session)
    answer = sign_up(client, email="mars@example.org", timezone="Mars/Olympus_Mons")
    assert answer.status_code == 422 and "choose your time zone from the list" in answer.text
    assert 'value="mars@example.org"' in answer.text
    refused = client.post("/api/lists/tech-and-science/subscribe",
                          json={"email": "mars@example.org", "timezone": "Mars/Olympus_Mons"})
    assert refused.status_code == 422 and "'Mars/Olympus_Mons' is not a known time zone" in refused.json()["detail"]
    assert sqlite_session.exec(select(Subscriber).where(Subscriber.email == "mars@example.org")).first() is None
    assert client.post("/api/lists/tech-and-science/subscribe",
                       json={"email": "berlin@example.org", "timezone": "Europe/Berlin"}).status_code == 202
    assert sqlite_session.exec(select(Subscriber.timezone).where(
        Subscriber.email == "berlin@example.org")).one() == "Europe/Berlin"
