"""Ingestion end to end over HTTP, on SQLite and PostgreSQL."""

import json
import sqlite3
from contextlib import closing
from datetime import timedelta

import pytest
from sqlalchemy.engine import make_url
from sqlmodel import Session, func, select

from digest.db import get_engine
from digest.ingest import dedupe
from digest.ingest.dedupe import same_story_title
from digest.ingest.parse import parse_feed
from digest.ingest.service import ingest_due, ingest_source
from digest.ingest.sources import add_source, pause_source
from digest.models import Source, Story, StorySource, utcnow
from tests.conftest import make_settings
from tests.ingest.feed_server import Reply
from tests.ingest.feeds import headlines, rss


@pytest.fixture
def settings(tmp_path, database_url):
    return make_settings(tmp_path, database_url, fetch_allowed_hosts=["localhost"],
                         fetch_deadline_seconds=5)


def stories(session) -> list[Story]:
    return session.exec(select(Story).order_by(Story.id)).all()


def add(session, server, path, reply, **options) -> Source:
    server.routes[path] = reply
    source = add_source(session, url=server.url(path), name=path.strip("/"), **options)
    session.commit()
    return source


def test_the_same_story_from_two_feeds_is_stored_once(session, settings, feed_server):
    herald = rss([
        {"title": "Harbour barrier opens a year early", "guid": "h-1",
         "link": "https://herald.example.org/news/barrier?utm_source=rss&utm_medium=feed#top"},
        {"title": "Council approves the new tram line", "link": "https://herald.example.org/news/tram"},
    ])
    wire = rss([
        # The same article: the canonical URL without tracking parameters and fragment.
        {"title": "Harbour barrier opens a year early",
         "link": "https://HERALD.example.org/news/barrier?fbclid=abc"},
        # Syndicated under another URL with a lightly edited title.
        {"title": "Council Approves New Tram Line - Wire Service",
         "link": "https://wire.example.com/2026/tram-line"},
        {"title": "Storm warning for the coast this weekend", "link": "https://wire.example.com/storm"},
    ])
    add(session, feed_server, "/herald", Reply(200, herald))
    add(session, feed_server, "/wire", Reply(200, wire))

    reports = ingest_due(session, settings)

    assert [(r.added, r.duplicates) for r in reports] == [(2, 0), (1, 2)]
    stored = stories(session)
    assert [s.title for s in stored] == ["Harbour barrier opens a year early",
                                        "Council approves the new tram line",
                                        "Storm warning for the coast this weekend"]
    assert stored[0].url == stored[0].canonical_url == "https://herald.example.org/news/barrier"
    sightings = session.exec(select(StorySource).where(StorySource.story_id == stored[1].id)
                             .order_by(StorySource.id)).all()
    assert [s.url for s in sightings] == ["https://herald.example.org/news/tram",
                                         "https://wire.example.com/2026/tram-line"]
    first = session.exec(select(StorySource).where(StorySource.story_id == stored[0].id)
                         .order_by(StorySource.id)).first()
    assert "utm_source=rss" in first.url and first.guid == "h-1"


def test_ingesting_the_same_feed_twice_adds_nothing(session, settings, feed_server):
    feed = rss([{"title": f"Story number {n} of the day", "link": f"https://news.example.org/{n}",
                 "guid": f"g{n}"} for n in range(5)])
    # First without validators: the second fetch gets the whole body again.
    source = add(session, feed_server, "/plain", Reply(200, feed))
    first = ingest_source(session, source, settings)
    second = ingest_source(session, source, settings)
    session.commit()
    assert (first.added, second.added, second.found) == (5, 0, 5)
    assert {outcome for outcome, _ in second.entries} == {"known"}
    assert session.exec(select(func.count()).select_from(Story)).one() == 5
    assert session.exec(select(func.count()).select_from(StorySource)).one() == 5


def test_a_feed_that_moves_its_links_keeps_its_stories_by_guid(session, settings, feed_server):
    source = add(session, feed_server, "/moved", Reply(200, rss(
        [{"title": "Short", "link": "https://old.example.org/a", "guid": "a-1"}])))
    ingest_source(session, source, settings)
    feed_server.routes["/moved"] = Reply(200, rss(
        [{"title": "Short", "link": "https://new.example.org/a", "guid": "a-1"}]))
    report = ingest_source(session, source, settings)
    session.commit()
    assert report.added == 0 and len(stories(session)) == 1


def test_not_modified_feeds_are_not_parsed_again(session, settings, feed_server):
    feed = rss([{"title": "Only story in this feed", "link": "https://news.example.org/only"}])

    def conditional(handler):
        if handler.headers.get("If-None-Match") == '"abc"':
            return Reply(304)
        return Reply(200, feed, {"ETag": '"abc"'})
    source = add(session, feed_server, "/etag", conditional)
    ingest_source(session, source, settings)
    report = ingest_source(session, source, settings)
    session.commit()
    assert report.not_modified and report.summary() == "not modified"
    assert source.etag == '"abc"' and source.consecutive_failures == 0


def test_a_failing_source_does_not_stop_the_others_and_backs_off(session, settings, feed_server):
    broken = add(session, feed_server, "/html", Reply(
        200, b"<html><head><title>Login required</title></head><body></body></html>"),
        every_minutes=30)
    gone = add(session, feed_server, "/gone", Reply(404, b"no"))
    private = add_source(session, url=feed_server.url("/x", host="127.0.0.1"), name="private")
    session.commit()
    good = add(session, feed_server, "/good", Reply(200, rss(
        [{"title": "The good feed still arrives", "link": "https://good.example.org/1"}])))

    reports = {r.source: r for r in ingest_due(session, settings)}

    assert reports["good"].added == 1
    assert reports["html"].error == "an HTML page ('Login required'), not a feed"
    assert reports["gone"].error.startswith("HTTP 404 from")
    assert "non-public address 127.0.0.1" in reports["private"].error
    session.expire_all()
    broken = session.get(Source, broken.id)
    assert broken.consecutive_failures == 1 and broken.last_error_at is not None
    assert broken.next_poll_at - broken.last_error_at == timedelta(minutes=60)
    assert session.get(Source, good.id).last_error is None
    # Nothing is due again until the backoff (or the interval) has passed.
    assert ingest_due(session, settings) == []
    assert gone.id and private.id


def test_malformed_feeds_are_errors_on_their_sources_and_the_run_goes_on(
        session, settings, feed_server):
    # JSON arrays nested 100,000 deep: Python's JSON reader gives up with a RecursionError.
    deep = (b'{"version": "https://jsonfeed.org/version/1.1", "title": "Deep", "items": ['
            + b"[" * 100_000 + b"]" * 100_000 + b"]}")
    # Year 9999 at -05:00 is past the end of datetime in UTC (OverflowError).
    far = json.dumps({"version": "https://jsonfeed.org/version/1.1", "title": "Far", "items": [
        {"id": "1", "url": "https://far.example.org/1", "title": "Dated at the end of time",
         "date_published": "9999-12-31T23:59:59-05:00"},
        {"id": "2", "url": "https://far.example.org/2", "title": "Dated like anyone else",
         "date_published": "2025-06-02T09:30:00+02:00"}]}).encode()
    # Year 1 parses, but its 48-hour near-duplicate window starts before datetime can count.
    year_one = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
      <item><title>Dated in the year one</title><link>https://one.example.org/1</link>
      <pubDate>Mon, 01 Jan 0001 00:00:00 GMT</pubDate></item>
      <item><title>Dated in this century</title><link>https://one.example.org/2</link>
      <pubDate>Mon, 02 Jun 2025 09:30:00 +0200</pubDate></item></channel></rss>"""
    add(session, feed_server, "/deep", Reply(200, deep, {"Content-Type": "application/feed+json"}))
    add(session, feed_server, "/far", Reply(200, far, {"Content-Type": "application/feed+json"}))
    add(session, feed_server, "/year-one", Reply(200, year_one))
    add(session, feed_server, "/good", Reply(200, rss(
        [{"title": "The good feed still arrives", "link": "https://good.example.org/1"}])))
    before = utcnow()

    reports = {r.source: r for r in ingest_due(session, settings)}

    assert reports["deep"].error == "not a feed: nested too deeply to read"
    session.expire_all()
    deep_source = session.exec(select(Source).where(Source.name == "deep")).one()
    assert deep_source.last_error == reports["deep"].error and deep_source.consecutive_failures == 1
    assert [(r.error, r.added) for r in (reports["far"], reports["year-one"], reports["good"])] \
        == [(None, 2), (None, 2), (None, 1)]
    dates = {s.title: s.published_at for s in stories(session)}
    # A date datetime cannot hold is a bad date: the story counts as first seen now.
    for title in ("Dated at the end of time", "Dated in the year one"):
        assert before <= dates[title] <= utcnow()
    assert dates["Dated like anyone else"].isoformat() == "2025-06-02T07:30:00+00:00"
    assert dates["Dated in this century"].isoformat() == "2025-06-02T07:30:00+00:00"


def test_an_error_python_raises_while_parsing_is_recorded_and_the_run_goes_on(
        session, settings, feed_server, monkeypatch):
    """What no real feed within the size cap was found to cause, but a parser could still meet
    (memory exhausted, a bug): recorded on the source like any feed error."""
    from digest.ingest import service

    def exhausted(data, base_url, content_type):
        if b"huge" in data:
            raise MemoryError("pathological input")
        return parse_feed(data, base_url, content_type)
    monkeypatch.setattr(service, "parse_feed", exhausted)
    add(session, feed_server, "/huge", Reply(200, rss(
        [{"title": "huge", "link": "https://h.example.org/"}])))
    add(session, feed_server, "/good", Reply(200, rss(
        [{"title": "The good feed still arrives", "link": "https://good.example.org/1"}])))

    reports = {r.source: r for r in ingest_due(session, settings)}

    assert reports["huge"].error == "unexpected MemoryError while parsing: pathological input"
    assert reports["good"].added == 1


def test_missing_and_future_dates_become_the_time_first_seen(session, settings, feed_server):
    feed = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
      <item><title>Dated far in the future</title><link>https://d.example.org/1</link>
      <pubDate>Fri, 01 Jan 2100 00:00:00 GMT</pubDate></item>
      <item><title>Without any date at all</title><link>https://d.example.org/2</link></item>
      <item><title>Dated in another time zone</title><link>https://d.example.org/3</link>
      <pubDate>Mon, 02 Jun 2025 09:30:00 +0200</pubDate></item></channel></rss>"""
    before = utcnow()
    ingest_source(session, add(session, feed_server, "/dates", Reply(200, feed)), settings)
    session.commit()
    future, undated, zoned = stories(session)
    assert before <= future.published_at <= utcnow()
    assert before <= undated.published_at <= utcnow()
    assert zoned.published_at.isoformat() == "2025-06-02T07:30:00+00:00"


def test_a_teaser_only_entry_gets_the_article_text_when_enabled(
        session, settings, feed_server, tmp_path, database_url):
    page = b"""<html><head><title>Barrier</title>
      <meta property="og:image" content="/img/barrier.jpg"></head><body><article>
      <h1>Barrier opens</h1><p>The three-kilometre barrier across the river delta opened on
      Thursday, a year ahead of schedule, after a mild winter let crews pour concrete.</p>
      <p>It is designed to protect 40,000 homes from storm surges that have grown more frequent
      since 2010, engineers said at the opening ceremony on the northern bank.</p>
      </article></body></html>"""
    feed_server.routes["/article"] = Reply(200, page, {"Content-Type": "text/html"})
    feed = rss([{"title": "Barrier opens", "link": feed_server.url("/article"),
                 "description": "The barrier opened."}])
    source = add(session, feed_server, "/teaser", Reply(200, feed))
    enriched = make_settings(tmp_path, database_url, fetch_allowed_hosts=["localhost"],
                             fetch_articles=True)

    ingest_source(session, source, enriched)
    session.commit()

    story = stories(session)[0]
    assert story.text.startswith("The three-kilometre barrier")
    assert story.image_url == feed_server.url("/img/barrier.jpg")


def test_articles_are_not_fetched_unless_enabled(session, settings, feed_server):
    feed_server.routes["/article"] = Reply(200, b"<html><body><p>x</p></body></html>")
    feed = rss([{"title": "Teaser only", "link": feed_server.url("/article"),
                 "description": "One line."}])
    ingest_source(session, add(session, feed_server, "/teaser", Reply(200, feed)), settings)
    assert "/article" not in [path for path, _ in feed_server.requests]
    assert stories(session)[0].text == "One line."


def test_a_source_claimed_by_one_run_is_skipped_by_another(session, settings, feed_server):
    from digest.ingest.service import claim_source
    source = add(session, feed_server, "/claimed", Reply(200, rss(
        [{"title": "Claimed once and only once", "link": "https://c.example.org/1"}])))
    with Session(get_engine(settings.database_url)) as other:
        assert claim_source(other, source.id)
    assert not claim_source(session, source.id)
    assert ingest_due(session, settings) == []


def test_another_connection_can_write_while_a_large_feed_is_compared(
        sqlite_settings, tmp_path, feed_server, monkeypatch):
    """SQLite lets one connection write at a time. Comparing a feed's titles costs CPU time
    that grows with the feed; done with the write lock held, it made an unsubscribe wait and
    then fail with "database is locked". Here another connection writes in the middle of
    the comparisons, without waiting at all (timeout 0): it must get through."""
    settings = make_settings(tmp_path, sqlite_settings.database_url,
                             fetch_allowed_hosts=["localhost"])
    titles = headlines(300)
    with Session(get_engine(settings.database_url), expire_on_commit=False) as session:
        add(session, feed_server, "/large", Reply(200, rss(
            [{"title": t, "link": f"https://large.example.org/{n}"} for n, t in enumerate(titles)])))
        other = pause_source(session, add_source(session, url="https://o.example.org/", name="o").id)
        session.commit()
    writes: list[str] = []
    compared = 0

    def compare_and_write(a: str, b: str, *languages: str | None) -> bool:
        nonlocal compared
        compared += 1
        if compared % 100 == 1:
            with closing(sqlite3.connect(make_url(settings.database_url).database, timeout=0)) as db:
                try:
                    with db:
                        db.execute("UPDATE source SET name = ? WHERE id = ?",
                                   (f"o{compared}", other.id))
                    writes.append("written")
                except sqlite3.OperationalError as exc:
                    writes.append(str(exc))
        return same_story_title(a, b, *languages)
    monkeypatch.setattr(dedupe, "same_story_title", compare_and_write)

    with Session(get_engine(settings.database_url), expire_on_commit=False) as session:
        [report] = ingest_due(session, settings)

    assert writes and set(writes) == {"written"}, writes
    assert report.error is None and report.added == 285  # every 20th a repeat (tests/ingest/feeds.py)
