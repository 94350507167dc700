"""The `digest sources` and `digest ingest` commands, as an operator runs them."""

import json
import uuid

import pytest
import redis
from typer.testing import CliRunner

from digest.cli import app
from tests.ingest.feed_server import Reply
from tests.ingest.feeds import rss


@pytest.fixture
def run(door_database):
    runner = CliRunner()
    return lambda *args: runner.invoke(app, list(args))


def test_sources_lifecycle_and_ingest(run, feed_server):
    feed_server.routes["/feed"] = Reply(200, rss([
        {"title": "Tram line approved by the council", "link": "https://n.example.org/tram"}]))
    feed_server.routes["/broken"] = Reply(500, b"oops")

    added = run("sources", "add", feed_server.url("/feed"), "--name", "City", "--section", "local",
                "--weight", "1.5", "--every-minutes", "30")
    assert added.exit_code == 0, added.output
    assert "source 1 added: City [local] every 30 min" in added.output
    run("sources", "add", feed_server.url("/broken"), "--name", "Broken")

    ingested = run("ingest")
    assert ingested.exit_code == 0, ingested.output
    assert "[1/2] City: 1 entries, 1 new" in ingested.output
    assert "[2/2] Broken: rejected: HTTP 500 from" in ingested.output
    assert "2 sources fetched, 1 failed, 1 new stories" in ingested.output

    listing = run("sources", "list").output
    assert "City  [local, weight 1.5, every 30 min]  active, 1 stories" in listing
    assert "Broken" in listing and "failing" in listing and "consecutive failures 1" in listing
    assert "last error (" in listing and "HTTP 500" in listing

    assert run("ingest").output.strip() == "no source is due"
    again = run("ingest", "--source", "1")
    assert again.exit_code == 0 and "City: 1 entries, 0 new" in again.output

    assert "source 2 (Broken) paused" in run("sources", "pause", "2").output
    assert "paused" in run("sources", "list").output
    assert "source 2 (Broken) resumed" in run("sources", "resume", "2").output
    assert "source 2 removed with 0 stories" in run("sources", "remove", "2").output


@pytest.mark.parametrize("args, message", [
    (("sources", "add", "javascript:alert(1)"), "error: url: 'javascript:alert(1)' is not an absolute http(s) URL"),
    (("sources", "pause", "42"), "error: no source 42"),
    (("ingest", "--source", "42"), "error: no source 42"),
])
def test_bad_input_is_one_line_and_exit_1(run, args, message):
    result = run(*args)
    assert result.exit_code == 1
    assert result.output.strip() == message


def test_ingest_file_lists_entries_or_says_why_it_was_rejected(run, tmp_path):
    good = tmp_path / "good-feed.xml"
    good.write_bytes(rss([{"title": "First & foremost", "link": "https://g.example.org/1"},
                          {"title": "Second story here", "link": "https://g.example.org/2"}]))
    page = tmp_path / "moved.rss"
    page.write_bytes(b"<head><title>Document Moved</title></head><body>moved</body>")

    result = run("ingest", "--file", str(good))
    assert result.exit_code == 0
    assert result.output.splitlines() == ["good-feed: 2 entries, 2 new",
                                          "  new      First & foremost",
                                          "  new      Second story here"]
    assert "  known    First & foremost" in run("ingest", "--file", str(good)).output

    rejected = run("ingest", "--file", str(page))
    assert rejected.exit_code == 1
    assert rejected.output.strip() == "error: moved: rejected: an HTML page ('Document Moved'), not a feed"


def test_with_a_broker_the_due_run_is_queued_for_the_workers(run, redis_url, monkeypatch):
    queue = f"digest-test-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("DIGEST_BROKER_URL", redis_url)
    monkeypatch.setenv("DIGEST_CELERY_QUEUE", queue)
    client = redis.Redis.from_url(redis_url)
    try:
        # Nothing due: nothing is queued for nothing.
        assert run("ingest").output.strip() == "no source is due"
        assert client.llen(queue) == 0
        run("sources", "add", "https://feeds.example.org/rss", "--name", "Feeds")
        result = run("ingest")
        assert result.exit_code == 0 and result.output.strip() == "ingest of 1 due sources queued"
        (message,) = client.lrange(queue, 0, -1)
        assert json.loads(message)["headers"]["task"] == "digest.ingest_due"
    finally:
        client.delete(queue)


def test_what_feeds_and_people_wrote_reaches_the_terminal_without_escape_sequences(run, feed_server, tmp_path):
    """An OSC 52 in a title wrote to the operator's clipboard through `digest ingest --file`."""
    osc52 = "\x1b]52;c;Y3VybCBldmlsLmV4YW1wbGUgfCBzaA==\x07"
    feed = tmp_path / "feed.xml"
    feed.write_bytes(rss([{"title": f"Budget{osc52} passes", "link": "https://g.example.org/1"}]))
    assert run("ingest", "--file", str(feed)).output.splitlines()[1] == "  new      Budget passes"

    # A name typed by a person (or stored before ingest cleaned) is printed inert too.
    feed_server.routes["/feed"] = Reply(200, rss([]))
    added = run("sources", "add", feed_server.url("/feed"), "--name", f"City{osc52}\x9b2J")
    listed = run("sources", "list")
    for output in (added.output, listed.output):
        assert "City" in output and not any(c in output for c in "\x1b\x07\x9b\r"), output
