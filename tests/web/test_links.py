"""The signed links in every mail: unsubscribe (one-click and page), preferences, data."""

import json
import secrets
import time
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from pydantic import ValidationError
from sqlmodel import select

from digest.mail.backends import get_backend
from digest.subscribers.links import personal_values
from digest.models import DigestList, Subscriber, Subscription
from digest.send.service import send_inline
from digest.settings import PLACEHOLDER_SECRET, Settings
from digest.subscribers.suppression import is_suppressed
from digest.subscribers.tokens import Purpose, make_token
from digest.web.app import create_app
from tests.conftest import make_settings
from tests.factories import approved_edition, sample_world
from tests.subscribers.helpers import link, path_of
from tests.web.conftest import arrived, sign_up
from tests.workers import wait_for

ADA = "ada.lovelace@example.com"


@pytest.fixture
def ada(sqlite_session) -> Subscriber:
    return sqlite_session.exec(select(Subscriber).where(Subscriber.email == ADA)).one()


@pytest.fixture
def morning(sqlite_session) -> DigestList:
    return sqlite_session.exec(select(DigestList).where(DigestList.slug == "morning-briefing")).one()


def statuses(session, subscriber_id):
    session.expire_all()
    return dict(session.exec(select(DigestList.slug, Subscription.status)
                             .join(Subscription, Subscription.list_id == DigestList.id)
                             .where(Subscription.subscriber_id == subscriber_id)).all())


def token(settings, purpose, subscriber, list_id):
    return make_token(settings.secret_key, purpose, subscriber, list_id)


def test_one_click_post_without_cookies_unsubscribes_with_a_plain_200(web_settings, sqlite_session, ada, morning):
    url = f"/unsubscribe/{token(web_settings, Purpose.UNSUBSCRIBE, ada, morning.id)}"
    with TestClient(create_app(web_settings)) as mail_client:   # no cookies, no login, no CSRF
        answer = mail_client.post(url, content=b"List-Unsubscribe=One-Click", follow_redirects=False,
                                  headers={"Content-Type": "application/x-www-form-urlencoded"})
        multipart = mail_client.post(url, files={"List-Unsubscribe": (None, "One-Click")},
                                     follow_redirects=False)
    assert answer.status_code == 200 and multipart.status_code == 200
    assert "location" not in answer.headers
    assert statuses(sqlite_session, ada.id) == {"morning-briefing": "unsubscribed", "tech-and-science": "active"}


def test_a_get_of_the_unsubscribe_link_changes_nothing(client, web_settings, sqlite_session, ada, morning):
    url = f"/unsubscribe/{token(web_settings, Purpose.UNSUBSCRIBE, ada, morning.id)}"
    for _ in range(3):
        page = client.get(url)
        assert page.status_code == 200
    assert "Unsubscribe from Morning Briefing" in page.text and "Unsubscribe from all lists" in page.text
    assert client.head(url).status_code in (200, 405)
    assert statuses(sqlite_session, ada.id) == {"morning-briefing": "active", "tech-and-science": "active"}


def test_the_page_buttons_leave_one_list_or_all(client, web_settings, sqlite_session, ada, morning):
    url = f"/unsubscribe/{token(web_settings, Purpose.UNSUBSCRIBE, ada, morning.id)}"
    one = client.post(url, data={"scope": "list"})
    assert one.status_code == 200 and "You will not receive Morning Briefing" in one.text
    assert statuses(sqlite_session, ada.id)["tech-and-science"] == "active"
    everything = client.post(url, data={"scope": "all"})
    assert everything.status_code == 200
    assert set(statuses(sqlite_session, ada.id).values()) == {"unsubscribed"}
    assert is_suppressed(sqlite_session, ADA)


def expired(settings, purpose, subscriber_id, list_id):
    class EightDaysAgo(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - 8 * 24 * 3600
    serializer = URLSafeTimedSerializer(settings.secret_key, salt=f"digest.{purpose}", signer=EightDaysAgo)
    return serializer.dumps({"s": subscriber_id, "l": list_id})


def test_tampered_expired_and_other_purpose_tokens_are_refused(client, web_settings, sqlite_session, ada, morning):
    good = token(web_settings, Purpose.UNSUBSCRIBE, ada, morning.id)
    payload, stamp, signature = good.split(".")
    someone = Subscriber(id=ada.id + 1, email="someone@example.org")
    other = token(web_settings, Purpose.UNSUBSCRIBE, someone, morning.id).split(".")[0]
    bad = {
        "tampered": f"{other}.{stamp}.{signature}",
        "bad signature": f"{payload}.{stamp}.{signature[:-2]}xx",
        "preferences token": token(web_settings, Purpose.PREFERENCES, ada, morning.id),
        "confirm token": token(web_settings, Purpose.CONFIRM, ada, morning.id),
        "other secret": make_token("another-secret", Purpose.UNSUBSCRIBE, ada, morning.id),
    }
    for name, value in bad.items():
        assert client.post(f"/unsubscribe/{value}", data={"List-Unsubscribe": "One-Click"}).status_code == 400, name
        assert client.get(f"/unsubscribe/{value}").status_code == 400, name
    assert client.get(f"/preferences/{good}").status_code == 400
    stale = expired(web_settings, Purpose.CONFIRM, ada.id, morning.id)
    answer = client.post(f"/confirm/{stale}", headers={"accept": "text/html"})
    assert answer.status_code == 400 and "expired" in answer.text
    assert client.get(f"/confirm/{stale}").status_code == 400
    assert client.get(f"/confirm/{good}").status_code == 400      # an unsubscribe token
    assert statuses(sqlite_session, ada.id) == {"morning-briefing": "active", "tech-and-science": "active"}


def test_preferences_page_saves_and_gives_the_data_then_erases(client, web_settings, sqlite_session, ada, morning):
    url = f"/preferences/{token(web_settings, Purpose.PREFERENCES, ada, morning.id)}"
    page = client.get(url)
    assert page.status_code == 200 and ADA in page.text
    tech = sqlite_session.exec(select(DigestList).where(DigestList.slug == "tech-and-science")).one()
    saved = client.post(url, data={"name": "Ada L.", "lists": [str(tech.id)], f"topics-{tech.id}": ["science"]})
    assert saved.status_code == 200 and "Your preferences are saved" in saved.text
    assert saved.history[0].status_code == 303
    assert statuses(sqlite_session, ada.id) == {"morning-briefing": "unsubscribed", "tech-and-science": "active"}

    data = client.get(f"{url}/data.json")
    assert data.headers["content-disposition"].startswith("attachment")
    assert json.loads(data.text)["name"] == "Ada L."

    # The time zone: any from the list, or none (each list's own); nothing else.
    assert '<option value="" selected>' in client.get(url).text
    client.post(url, data={"name": "Ada L.", "lists": [str(tech.id)], "timezone": "Asia/Tokyo"})
    assert json.loads(client.get(f"{url}/data.json").text)["timezone"] == "Asia/Tokyo"
    assert '<option value="Asia/Tokyo" selected>' in client.get(url).text
    refused = client.post(url, data={"name": "Someone else", "lists": [], "timezone": "Mars/Base"})
    assert refused.status_code == 422 and "nothing was changed" in refused.text
    kept = json.loads(client.get(f"{url}/data.json").text)
    assert (kept["timezone"], kept["name"]) == ("Asia/Tokyo", "Ada L.")

    assert client.post(f"{url}/erase", data={}).status_code == 422     # the box must be ticked
    gone = client.post(f"{url}/erase", data={"confirm": "yes"})
    assert gone.status_code == 200 and "deleted" in gone.text
    sqlite_session.expire_all()
    assert sqlite_session.exec(select(Subscriber).where(Subscriber.email == ADA)).first() is None
    assert is_suppressed(sqlite_session, ADA)
    assert client.get(url).status_code == 404


def test_a_name_with_a_line_break_adds_no_header_to_any_mail(tmp_path, web_settings, smtp_server, sqlite_session):
    settings = make_settings(tmp_path, web_settings.database_url, mail_backend="smtp",
                             smtp_port=smtp_server.port, public_url="http://testserver", send_goodbye=True)

    def bobs():
        return [m for m in smtp_server.messages if m["To"].addresses[0].addr_spec == "bob@example.org"]

    with TestClient(create_app(settings)) as client:
        sign_up(client, slug="morning-briefing", email="bob@example.org", name="Bob\r\nBcc: x@y")
        client.post(path_of(link(arrived(smtp_server, 1)[0], "confirm")))        # welcome
        arrived(smtp_server, 2)
        morning = sample_world(sqlite_session, settings)["morning-briefing"]
        send_inline(sqlite_session, settings, get_backend(settings),             # the digest
                    approved_edition(sqlite_session, morning).id)
        client.post(path_of(link(smtp_server.messages[1], "unsubscribe")), data={"scope": "list"})  # goodbye
        wait_for(lambda: len(bobs()) >= 4, timeout=30)
    mails = bobs()
    assert [m["Subject"].split(" ")[0] for m in mails][:2] == ["Confirm", "Welcome"]
    assert mails[-1]["Subject"].startswith("You are unsubscribed")
    assert len(mails) == 4
    for mail in mails:
        assert mail["Bcc"] is None
        assert [a.addr_spec for a in mail["To"].addresses] == ["bob@example.org"]
        assert all("\n" not in value and "\r" not in value for value in mail.values())
    assert "x@y" not in str(mails[0])       # the confirmation does not even carry the name
    assert "x@y" not in smtp_server.recipients()


def path(url: str) -> str:
    return url.removeprefix("https://news.example.org")


@pytest.fixture
def news(session) -> DigestList:
    digest_list = DigestList(slug="news", name="The News")
    session.add(digest_list)
    session.commit()
    return digest_list


def reader(session, news, email, **fields) -> Subscriber:
    person = Subscriber(email=email, **fields)
    session.add(person)
    session.flush()
    session.add(Subscription(subscriber_id=person.id, list_id=news.id, status="active"))
    session.commit()
    return person


def refused(answer) -> bool:
    return answer.status_code == 400 and "this link is not valid" in answer.text


def test_a_link_forged_with_the_public_placeholder_key_opens_nothing(web_settings, ada, morning, monkeypatch):
    # By default (production) the placeholder key is refused at start-up...
    monkeypatch.delenv("DIGEST_ENVIRONMENT")
    values = web_settings.model_dump(exclude={"environment", "secret_key"})
    with pytest.raises(ValidationError, match="DIGEST_SECRET_KEY"):
        Settings(_env_file=None, **values)
    # ...and a deployment with its own key refuses what the public placeholder signs.
    deployed = Settings(_env_file=None, **values, secret_key=secrets.token_urlsafe(48))
    assert deployed.environment == "production"
    forged = make_token(PLACEHOLDER_SECRET, Purpose.PREFERENCES, ada, morning.id)
    with TestClient(create_app(deployed)) as client:
        for answer in (client.get(f"/preferences/{forged}"), client.get(f"/preferences/{forged}/data.json")):
            assert refused(answer) and ADA not in answer.text
        genuine = make_token(deployed.secret_key, Purpose.PREFERENCES, ada, morning.id)
        assert ADA in client.get(f"/preferences/{genuine}/data.json").text   # the check can pass


def test_an_erased_readers_links_open_nothing_once_someone_else_has_the_id(settings, session, news):
    ada = reader(session, news, "ada@example.org", name="Ada")
    ada_id, links = ada.id, personal_values(settings, ada, news.id)
    preferences, unsubscribe = path(links.preferences_url), path(links.unsubscribe_url)
    with TestClient(create_app(settings)) as client:
        assert client.post(f"{preferences}/erase", data={"confirm": "yes"}).status_code == 200
        session.expunge(ada)        # the app erased her in its own session
        # SQLite gave the newest row's id to the next one; PostgreSQL may too after a restore.
        bob = reader(session, news, "bob@example.org", name="Bob", id=ada_id)
        for answer in (client.get(preferences), client.get(f"{preferences}/data.json"),
                       client.post(preferences, data={"name": "Mallory"}),
                       client.post(f"{preferences}/erase", data={"confirm": "yes"}),
                       client.get(unsubscribe),
                       client.post(unsubscribe, data={"List-Unsubscribe": "One-Click"})):
            assert refused(answer) and "bob@example.org" not in answer.text
    session.expire_all()
    assert session.get(Subscriber, bob.id).name == "Bob"
    assert statuses(session, bob.id) == {"news": "active"}


def old_token(settings, purpose, subscriber_id, list_id, signed_ago):
    """A link as made before tokens named the subscriber: ids only, signed `signed_ago` seconds ago."""
    class Then(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - signed_ago
    serializer = URLSafeTimedSerializer(settings.secret_key, salt=f"digest.{purpose}", signer=Then)
    return serializer.dumps({"s": subscriber_id, "l": list_id})


def test_old_links_work_for_their_reader_and_never_for_a_later_one(settings, session, news):
    hour_ago = datetime.now(UTC) - timedelta(hours=1)
    ada_id = reader(session, news, "ada@example.org", created_at=hour_ago).id
    preferences = f"/preferences/{old_token(settings, Purpose.PREFERENCES, ada_id, news.id, 600)}"
    unsubscribe = f"/unsubscribe/{old_token(settings, Purpose.UNSUBSCRIBE, ada_id, news.id, 600)}"
    with TestClient(create_app(settings)) as client:
        assert "ada@example.org" in client.get(preferences).text
        assert client.post(unsubscribe, data={"List-Unsubscribe": "One-Click"}).status_code == 200
        assert statuses(session, ada_id) == {"news": "unsubscribed"}
        assert client.post(f"{preferences}/erase", data={"confirm": "yes"}).status_code == 200
        # Signed before this row existed: the id was somebody else's then.
        bob = reader(session, news, "bob@example.org", id=ada_id)
        assert refused(client.get(preferences))
        assert refused(client.post(unsubscribe, data={"List-Unsubscribe": "One-Click"}))
    assert statuses(session, bob.id) == {"news": "active"}


def test_the_unsubscribed_page_offers_a_new_sign_up_not_the_preferences(client, web_settings, ada, morning):
    url = path_of(personal_values(web_settings, ada, morning.id).unsubscribe_url)
    # The unsubscribe link travels in a header every mail provider reads: it must open no more
    # than unsubscribing (the preferences page shows the data and deletes the subscriber).
    for scope, again in (("list", 'href="/subscribe/morning-briefing"'), ("all", 'href="/"')):
        answer = client.post(url, data={"scope": scope})
        assert answer.status_code == 200 and again in answer.text
        assert "/preferences/" not in answer.text
