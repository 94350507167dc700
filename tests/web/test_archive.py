"""The public archive: sent editions only, rendered with no subscriber data, and its RSS."""

import re
from email import message_from_bytes, policy

import feedparser
from fastapi.testclient import TestClient

from digest.mail.backends.memory import MemoryBackend
from digest.send.control import send_test
from digest.send.service import send_inline
from digest.web.app import create_app
from tests.factories import approved_edition, sample_world


def test_sent_editions_are_public_without_subscriber_data(sqlite_session, sqlite_settings):
    lists = sample_world(sqlite_session, sqlite_settings)
    sent = approved_edition(sqlite_session, lists["morning-briefing"])
    send_inline(sqlite_session, sqlite_settings, MemoryBackend(), sent.id)
    draft = approved_edition(sqlite_session, lists["tech-and-science"])

    with TestClient(create_app(sqlite_settings)) as client:
        index = client.get("/archive/morning-briefing")
        page = client.get(f"/archive/morning-briefing/{sent.id}")
        feed = client.get("/archive/morning-briefing/feed.xml")
        not_sent = client.get(f"/archive/tech-and-science/{draft.id}")
        wrong_list = client.get(f"/archive/tech-and-science/{sent.id}")
        no_list = client.get("/archive/nothing-here")

    assert index.status_code == 200 and sent.subject in index.text
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "Hello," in page.text and "Delta flood barrier" in page.text
    for private in ("/unsubscribe/", "/preferences/", "Ada", "Preview Reader"):
        assert private not in page.text
    assert (not_sent.status_code, wrong_list.status_code, no_list.status_code) == (404, 404, 404)

    parsed = feedparser.parse(feed.content)
    assert feed.headers["content-type"].startswith("application/rss+xml")
    assert not parsed.bozo
    assert [e.title for e in parsed.entries] == [sent.subject]
    assert parsed.entries[0].link == f"{sqlite_settings.public_url}/archive/morning-briefing/{sent.id}"


def test_a_drafts_test_copy_opens_in_the_browser_with_its_signed_key_only(sqlite_session, sqlite_settings):
    lists = sample_world(sqlite_session, sqlite_settings)
    draft = approved_edition(sqlite_session, lists["tech-and-science"])
    other = approved_edition(sqlite_session, lists["morning-briefing"])
    backend = MemoryBackend()
    send_test(sqlite_session, sqlite_settings, backend, draft.id, "editor@example.org")
    body = message_from_bytes(backend.outbox[0].data, policy=policy.default).get_body(("plain",))
    link = re.search(r"View in browser: (\S+)", body.get_content()).group(1)
    path = link.removeprefix(sqlite_settings.public_url)
    assert path.startswith(f"/archive/tech-and-science/{draft.id}?key=")
    key = path.partition("key=")[2]

    with TestClient(create_app(sqlite_settings)) as client:
        page = client.get(path)
        bare = client.get(f"/archive/tech-and-science/{draft.id}")
        tampered = client.get(f"/archive/tech-and-science/{draft.id}?key={key[:-2]}xx")
        elsewhere = client.get(f"/archive/morning-briefing/{other.id}?key={key}")

    assert page.status_code == 200 and "Hello," in page.text
    assert page.headers["cache-control"] == "private, no-store"
    assert "/preferences/" not in page.text and "/unsubscribe/" not in page.text
    assert (bare.status_code, tampered.status_code, elsewhere.status_code) == (404, 404, 404)
