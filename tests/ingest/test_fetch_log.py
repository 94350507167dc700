"""The fetch log on SQLite and PostgreSQL: each fetch of a source (HTTP or file) leaves a row
with its outcome and new stories, days are counted per source, and old rows go."""

from datetime import timedelta

import pytest
from sqlmodel import select

from digest.ingest import fetch_log
from digest.ingest.service import ingest_due, ingest_file, ingest_source
from digest.ingest.sources import add_source
from digest.models import FetchLog, utcnow
from tests.conftest import make_settings
from tests.ingest.feed_server import Reply
from tests.ingest.feeds import rss


@pytest.fixture
def settings(tmp_path, database_url):
    return make_settings(tmp_path, database_url, fetch_allowed_hosts=["localhost"])


def items(*numbers: int) -> bytes:
    return rss([{"title": f"Story number {n} of the day", "link": f"https://news.example.org/{n}"}
                for n in numbers])


def test_each_fetch_is_logged_and_counted_by_day(session, settings, feed_server):
    feed_server.routes["/feed"] = Reply(200, items(1, 2, 3))
    source = add_source(session, url=feed_server.url("/feed"), name="feed")
    session.commit()
    ingest_source(session, source, settings)
    session.commit()
    # That fetch happened three days ago, as far as the log knows.
    for row in session.exec(select(FetchLog)).all():
        row.at -= timedelta(days=3)
    session.commit()
    feed_server.routes["/feed"] = Reply(500, b"down")
    ingest_source(session, source, settings)
    feed_server.routes["/feed"] = Reply(200, items(1, 2, 3, 4, 5))
    ingest_source(session, source, settings)
    session.commit()

    logged = session.exec(select(FetchLog.outcome, FetchLog.new_stories).order_by(FetchLog.id)).all()
    assert logged == [("ok", 3), ("error", 0), ("ok", 2)]
    days = fetch_log.daily(session, 14)[source.id]
    assert len(days) == 14 and days[-1].day == utcnow().date()
    assert (days[-1].ok, days[-1].failed, days[-1].new_stories) == (1, 1, 2)
    assert (days[-4].ok, days[-4].failed, days[-4].new_stories) == (1, 0, 3)
    assert sum(d.ok + d.failed for d in days) == 3


def test_a_run_prunes_the_log_older_than_thirty_days(session, settings, feed_server):
    feed_server.routes["/feed"] = Reply(200, items(1))
    source = add_source(session, url=feed_server.url("/feed"), name="feed")
    session.add_all([FetchLog(source_id=source.id, at=utcnow() - timedelta(days=31), outcome="ok"),
                     FetchLog(source_id=source.id, at=utcnow() - timedelta(days=29), outcome="error")])
    session.commit()

    ingest_due(session, settings)

    left = session.exec(select(FetchLog.outcome).order_by(FetchLog.at)).all()
    assert left == ["error", "ok"]


def test_a_local_file_is_logged_too_even_when_unreadable(session, settings, tmp_path):
    feed = tmp_path / "local.xml"
    feed.write_bytes(items(1, 2))
    ingest_file(session, feed)
    ingest_file(session, tmp_path / "missing.xml")
    session.commit()

    logged = session.exec(select(FetchLog.outcome, FetchLog.new_stories).order_by(FetchLog.id)).all()
    assert logged == [("ok", 2), ("error", 0)]
