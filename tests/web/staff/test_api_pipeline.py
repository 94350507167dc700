"""The API's lists, edition builds and ingest against the real app, on SQLite and
PostgreSQL: sources fetched over HTTP from a feed server on loopback, then today's draft."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import redis
from sqlalchemy import func
from sqlmodel import Session, select

from digest.db import get_engine
from digest.models import DigestList, Edition, Subscriber, Subscription
from digest.sample import DATA, write_feeds
from tests.ingest.feed_server import FeedServer, Reply
from tests.web.staff.conftest import make_api


@pytest.fixture
def feeds(tmp_path):
    """The sample feeds served over HTTP; their URLs by section."""
    server = FeedServer()
    server.start()
    for path, feed in write_feeds(tmp_path / "feeds"):
        server.routes[f"/{feed['file']}"] = Reply(200, path.read_bytes())
    yield {feed["section"]: server.url(f"/{feed['file']}") for feed in DATA["feeds"]}
    server.stop()


@pytest.fixture
def api(tmp_path, database_url):
    client, auth = make_api(tmp_path, database_url)
    with client:
        yield client, auth


def test_lists_show_their_confirmed_subscribers_and_next_send(api, database_url):
    client, auth = api
    listed = client.get("/api/lists", headers=auth["editor"])
    assert listed.status_code == 200
    by_slug = {d["slug"]: d for d in listed.json()}
    assert set(by_slug) == {"morning-briefing", "tech-and-science"}
    with Session(get_engine(database_url)) as session:
        active = dict(session.exec(select(Subscription.list_id, func.count()).where(
            Subscription.status == "active").group_by(Subscription.list_id)).all())
    one = client.get("/api/lists/tech-and-science", headers=auth["ops"]).json()
    assert one == by_slug["tech-and-science"]
    assert one["subscribers"] == active[one["id"]] > 0
    assert by_slug["morning-briefing"]["subscribers"] == active[by_slug["morning-briefing"]["id"]]
    assert one["sections"] == ["tech", "science"] and one["min_stories"] == 3
    schedule = one["schedule"]
    assert schedule["timezone"] == "America/New_York" and schedule["auto_approve"] is False
    next_send = datetime.fromisoformat(schedule["next_send_at"])
    assert datetime.now(UTC) < next_send <= datetime.now(UTC) + timedelta(days=1)
    assert f"{next_send.astimezone(ZoneInfo('America/New_York')):%H:%M}" == schedule["send_time"] == "09:00"
    assert schedule["deliver_at"] == "list" and datetime.fromisoformat(schedule["first_wave_at"]) == next_send
    with Session(get_engine(database_url)) as session:  # local-time delivery, a reader in Tokyo
        digest_list = session.get(DigestList, one["id"])
        digest_list.deliver_at = "local"
        reader = session.exec(select(Subscriber).join(Subscription, Subscription.subscriber_id == Subscriber.id)
                              .where(Subscription.list_id == one["id"], Subscription.status == "active")).first()
        reader.timezone = "Asia/Tokyo"
        session.add_all([digest_list, reader])
        session.commit()
        email = reader.email
    local = client.get("/api/lists/tech-and-science", headers=auth["ops"]).json()["schedule"]
    first_wave = datetime.fromisoformat(local["first_wave_at"])
    assert local["deliver_at"] == "local" and datetime.now(UTC) < first_wave
    assert f"{first_wave.astimezone(ZoneInfo('Asia/Tokyo')):%H:%M}" == "09:00"
    hits = client.get("/api/subscribers", params={"q": email}, headers=auth["ops"]).json()
    assert [hit["timezone"] for hit in hits] == ["Asia/Tokyo"]
    missing = client.get("/api/lists/nope", headers=auth["editor"])
    assert missing.status_code == 404 and missing.json() == {"detail": "no list 'nope'"}
    assert client.get("/api/lists").status_code == 401


def test_ingest_then_build_gives_todays_draft_once(api, feeds, database_url):
    client, auth = api
    for section, url in feeds.items():
        added = client.post("/api/sources", headers=auth["ops"],
                            json={"url": url, "name": section.title(), "section": section})
        assert added.status_code == 201, added.text
    assert client.post("/api/ingest", headers=auth["editor"]).status_code == 403

    ingested = client.post("/api/ingest", headers=auth["ops"])
    assert ingested.status_code == 200, ingested.text
    body = ingested.json()
    assert body["queued"] is False
    assert {s["source"] for s in body["sources"]} == {s.title() for s in feeds}
    assert all(s["error"] is None and s["added"] > 0 for s in body["sources"]), body
    again = client.post("/api/ingest", headers=auth["ops"]).json()
    assert again == {"queued": False, "sources": []}  # nothing is due any more

    assert client.post("/api/lists/tech-and-science/editions", headers=auth["ops"]).status_code == 403
    built = client.post("/api/lists/tech-and-science/editions", headers=auth["editor"])
    assert built.status_code == 201, built.text
    draft = built.json()
    assert draft["created"] is True and draft["status"] == "draft"
    assert 3 <= len(draft["items"]) <= 6
    assert {i["section"] for i in draft["items"]} <= {"tech", "science"}
    assert [i["position"] for i in draft["items"]] == list(range(1, len(draft["items"]) + 1))

    rebuilt = client.post("/api/lists/tech-and-science/editions", headers=auth["admin"])
    assert rebuilt.status_code == 200
    assert rebuilt.json() == {**draft, "created": False}
    with Session(get_engine(database_url)) as session:
        assert session.exec(select(Edition.id)).all() == [draft["id"]]
    assert client.get(f"/api/editions/{draft['id']}", headers=auth["ops"]).json()["items"] == draft["items"]
    assert client.post("/api/lists/nope/editions", headers=auth["editor"]).status_code == 404


def test_with_a_broker_ingest_is_queued_for_the_workers(tmp_path, sqlite_settings, redis_url):
    queue = f"digest-test-{uuid.uuid4().hex[:8]}"
    client, auth = make_api(tmp_path, sqlite_settings.database_url, broker_url=redis_url, celery_queue=queue)
    broker = redis.Redis.from_url(redis_url)
    try:
        with client:
            response = client.post("/api/ingest", headers=auth["ops"])
        assert response.status_code == 200 and response.json() == {"queued": True, "sources": []}
        (message,) = broker.lrange(queue, 0, -1)
        assert json.loads(message)["headers"]["task"] == "digest.ingest_due"
    finally:
        broker.delete(queue)
