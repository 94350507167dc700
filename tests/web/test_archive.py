"""The public archive: sent editions only, rendered with no subscriber data, and its RSS."""

import feedparser
from fastapi.testclient import TestClient

from digest.mail.backends.memory import MemoryBackend
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
