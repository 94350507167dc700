"""The periodic task `digest.ingest_due` (config/beat.toml) runs the same service, in-process."""

from sqlmodel import Session, select

from digest.db import get_engine
from digest.ingest.sources import add_source
from digest.models import Source, Story
from digest.tasks import ingest_due
from tests.ingest.feed_server import Reply
from tests.ingest.feeds import rss


def test_the_beat_task_ingests_due_sources(door_database, feed_server):
    url = door_database
    feed_server.routes["/feed"] = Reply(200, rss(
        [{"title": "Picked up by the periodic task", "link": "https://t.example.org/1"}]))
    with Session(get_engine(url)) as session:
        add_source(session, url=feed_server.url("/feed"), name="Task feed")
        session.commit()
    ingest_due()
    with Session(get_engine(url)) as session:
        assert session.exec(select(Story.title)).all() == ["Picked up by the periodic task"]
        assert session.exec(select(Source)).one().last_success_at is not None
