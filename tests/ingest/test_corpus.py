"""The shared real-world corpus, when present: every feed yields clean entries or a reason.

bench/ingest_corpus.py runs the whole corpus through storage too and prints the numbers.
"""

import re
from pathlib import Path

import pytest
from sqlmodel import select

from digest import PROJECT_ROOT
from digest.ingest.clean import canonical_url
from digest.ingest.parse import FeedRejected, parse_feed
from digest.ingest.service import ingest_file
from digest.models import Source, Story

CORPUS = PROJECT_ROOT.parent / "shared" / "corpus"
FILES = sorted(p for folder in ("feedjira-feeds", "rss-parser-feeds") if (CORPUS / folder).is_dir()
               for p in (CORPUS / folder).iterdir() if p.name not in ("LICENSE", "NOTICE.md"))
NOT_FEEDS = {"unrecognized.rss": "an HTML page ('Document Moved'), not a feed"}
UNCLEAN = re.compile(r"<[a-zA-Z/!]|&[#a-zA-Z0-9]+;|\s{2,}|^\s|\s$")

corpus = pytest.mark.skipif(not FILES, reason=f"the shared corpus is not at {CORPUS}")


@corpus
@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_corpus_file_yields_clean_entries_or_a_reason(path: Path):
    if path.name in NOT_FEEDS:
        with pytest.raises(FeedRejected, match=re.escape(NOT_FEEDS[path.name])):
            parse_feed(path.read_bytes())
        return
    feed = parse_feed(path.read_bytes())
    assert feed.entries
    for entry in feed.entries:
        assert entry.title and not UNCLEAN.search(entry.title), entry.title
        assert entry.url.startswith(("http://", "https://")), entry.url
        assert not re.search(r"[?&](utm_|fbclid|gclid)", canonical_url(entry.url))
        assert entry.published_at is None or entry.published_at.utcoffset().total_seconds() == 0
        assert "<script" not in entry.summary_html and "javascript:" not in entry.summary_html


@corpus
def test_corpus_feeds_store_and_the_html_page_is_recorded_as_failed(sqlite_session):
    for name in ("json_feed.json", "uolNoticias.rss", "unrecognized.rss", "encoding.rss"):
        path = next(p for p in FILES if p.name == name)
        first = ingest_file(sqlite_session, path)
        second = ingest_file(sqlite_session, path)
        assert second.added == 0
        assert (first.error is None) == (name not in NOT_FEEDS)
    failed = sqlite_session.exec(select(Source).where(Source.name == "unrecognized")).one()
    assert failed.consecutive_failures == 2 and "HTML page" in failed.last_error
    titles = sqlite_session.exec(select(Story.title)).all()
    assert "Mãe de utente é a nova presidente da Raríssimas" in titles
    assert any(t.startswith("Ibope: Bolsonaro perde de Haddad") for t in titles)
