"""Source management: validation, pause and resume, removal that keeps history."""

import pytest
from sqlmodel import select

from digest.ingest.service import due_source_ids, ingest_file
from digest.ingest.sources import (SourceError, add_source, list_sources, pause_source,
                                   remove_source, resume_source, update_source)
from digest.models import DigestList, Edition, EditionItem, Source, Story, StorySource, utcnow
from tests.ingest.feeds import rss


@pytest.mark.parametrize("fields, message", [
    (dict(url="ftp://example.com/feed"), "url: 'ftp://example.com/feed' is not an absolute http"),
    (dict(url="/feed.xml"), "url: '/feed.xml' is not"),
    (dict(url="https://user:pw@example.com/feed"), "url: credentials"),
    (dict(url="https://example.com/f", name="  "), "name: must be 1 to 200"),
    (dict(url="https://example.com/f", section="World News"), "section: 'World News' must be"),
    (dict(url="https://example.com/f", weight=0), "weight: 0 must be above 0"),
    (dict(url="https://example.com/f", every_minutes=1), "every_minutes: 1 must be between 5"),
])
def test_bad_input_is_refused_naming_the_field(sqlite_session, fields, message):
    with pytest.raises(SourceError, match=message.replace("(", r"\(")):
        add_source(sqlite_session, **fields)
    assert sqlite_session.exec(select(Source)).all() == []


def test_add_list_pause_resume(session):
    source = add_source(session, url=" https://feeds.example.org/world.xml ", section="world",
                        weight=1.5, every_minutes=30)
    assert (source.name, source.url) == ("feeds.example.org", "https://feeds.example.org/world.xml")
    with pytest.raises(SourceError, match="already exists"):
        add_source(session, url="https://feeds.example.org/world.xml")
    assert due_source_ids(session) == [source.id]

    pause_source(session, source.id)
    assert due_source_ids(session) == []
    assert [row.state for row in list_sources(session)] == ["paused"]

    source.consecutive_failures, source.next_poll_at = 4, None
    resume_source(session, source.id)
    assert source.consecutive_failures == 0 and source.next_poll_at <= utcnow()
    assert [row.state for row in list_sources(session)] == ["active"]
    update_source(session, source.id, weight=2.0, every_minutes=15)
    assert (source.weight, source.poll_interval_minutes) == (2.0, 15)
    with pytest.raises(SourceError, match="no source 999"):
        pause_source(session, 999)


def test_remove_keeps_shared_stories_and_refuses_to_erase_history(session, tmp_path):
    shared = {"title": "A story both feeds carry today", "link": "https://a.example.org/shared"}
    (tmp_path / "one.xml").write_bytes(rss([shared, {"title": "Only in feed one here",
                                                     "link": "https://a.example.org/one"}]))
    (tmp_path / "two.xml").write_bytes(rss([shared]))
    ingest_file(session, tmp_path / "one.xml")
    ingest_file(session, tmp_path / "two.xml")
    one, two = session.exec(select(Source).order_by(Source.id)).all()

    assert remove_source(session, one.id) == 1
    remaining = session.exec(select(Story)).all()
    assert [(s.title, s.source_id) for s in remaining] == [(shared["title"], two.id)]
    assert session.exec(select(StorySource.source_id)).all() == [two.id]

    digest_list = DigestList(slug="daily", name="Daily")
    session.add(digest_list)
    session.flush()
    edition = Edition(list_id=digest_list.id, slot=utcnow())
    session.add(edition)
    session.flush()
    session.add(EditionItem(edition_id=edition.id, story_id=remaining[0].id, position=0,
                            headline="h", summary="s"))
    session.flush()
    with pytest.raises(SourceError, match="appeared in editions; pause it instead"):
        remove_source(session, two.id)
    assert session.get(Source, two.id) is not None
