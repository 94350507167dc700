"""The editor's commands, run through Typer's CliRunner against a real SQLite database."""

import re
from datetime import datetime, timedelta

import pytest
from sqlmodel import Session, select
from typer.testing import CliRunner

from digest.cli import app
from digest.db import get_engine
from digest.models import DigestList, Edition, Story, Subscriber, Subscription
from digest.settings import get_settings

from tests.factories import sample_world

PAGE = """<html><head><title>Ferry returns</title></head><body><article><h1>Ferry returns</h1>
<p>By Ann Lee</p>
<p>The island ferry returned to service on Monday after a six-week refit that replaced both
engines and added a second car deck, the operator said on Monday.</p>
<p>Share on Facebook</p>
<p>Islanders had relied on a smaller boat that carried no vehicles during the refit.</p>
</article></body></html>"""


@pytest.fixture
def digest(sqlite_settings):
    """Run `digest ...` with the test database as DIGEST_DATABASE_URL; returns the result."""
    runner = CliRunner()
    env = {"DIGEST_DATABASE_URL": sqlite_settings.database_url,
           "DIGEST_DATA_DIR": str(sqlite_settings.data_dir)}
    get_settings.cache_clear()  # the door reads the environment once per process

    def run(*args: str, ok: bool = True):
        result = runner.invoke(app, list(args), env=env)
        assert (result.exit_code == 0) == ok, result.output
        return result

    yield run
    get_settings.cache_clear()


def test_lists_add_update_and_list_with_validated_input(digest, sqlite_settings):
    refused = digest("lists", "add", "evening", "--name", "Evening", "--timezone", "Mars/Base",
                     "--send-time", "7pm", ok=False)
    assert "timezone: 'Mars/Base' is not a known time zone" in refused.output
    assert "send_time: '7pm' is not a time as HH:MM" in refused.output
    assert "no lists" in digest("lists", "list").output  # nothing half-written
    assert "list 'evening': name: required" in digest("lists", "add", "evening", ok=False).output
    assert "slug 'Bad Slug!'" in digest("lists", "add", "Bad Slug!", "--name", "X", ok=False).output

    added = digest("lists", "add", "evening", "--name", "Evening wrap", "--sections", "World,tech",
                   "--send-time", "18:30", "--timezone", "Europe/Paris", "--per-domain-cap", "2")
    assert "18:30 Europe/Paris, editor approves, clicks tracked; tech, world" in added.output
    refused = digest("lists", "update", "evening", "--min-stories", "20", ok=False)
    assert "min_stories (20) is above max_stories (12)" in refused.output
    assert "error: a list 'evening' already exists" in digest(
        "lists", "add", "evening", "--name", "Again", ok=False).output
    digest("lists", "update", "evening", "--max-stories", "8", "--auto-approve", "--sections", "",
           "--no-track-clicks")
    with Session(get_engine(sqlite_settings.database_url)) as session:
        evening = session.exec(select(DigestList).where(DigestList.slug == "evening")).one()
        assert (evening.max_stories, evening.min_stories, evening.auto_approve, evening.sections,
                evening.per_domain_cap, evening.track_clicks) == (8, 3, True, [], 2, False)
    assert "auto-approve, clicks not tracked; all sections" in digest("lists", "list").output


def test_a_list_delivering_in_local_time_says_when_its_first_wave_goes(digest, sqlite_settings):
    digest("lists", "add", "morning", "--name", "Morning", "--timezone", "Europe/London")
    refused = digest("lists", "update", "morning", "--deliver-at", "everywhere", ok=False)
    assert "deliver_at: Input should be 'list' or 'local'" in refused.output
    assert "first wave" not in digest("lists", "show", "morning").output
    updated = digest("lists", "update", "morning", "--deliver-at", "local")
    assert "07:00 Europe/London in each reader's zone" in updated.output
    with Session(get_engine(sqlite_settings.database_url)) as session:
        morning = session.exec(select(DigestList).where(DigestList.slug == "morning")).one()
        reader = Subscriber(email="tokyo@example.org", timezone="Asia/Tokyo")
        session.add(reader)
        session.flush()
        session.add(Subscription(subscriber_id=reader.id, list_id=morning.id, status="active"))
        session.commit()
    shown = digest("lists", "show", "morning").output
    edition, first = re.search(r"next edition (\S+ \S+) UTC, first wave at (\S+ \S+) UTC", shown).groups()
    # Tokyo's 07:00 is 22:00 (or, in London's summer, 23:00) UTC the day before London's.
    assert datetime.fromisoformat(edition) - datetime.fromisoformat(first) in (timedelta(hours=9), timedelta(hours=8))
    assert "error: no list 'nope'" in digest("lists", "show", "nope", ok=False).output


def test_an_editor_shapes_a_draft_and_an_approved_edition_refuses_edits(digest, sqlite_settings):
    with Session(get_engine(sqlite_settings.database_url), expire_on_commit=False) as session:
        sample_world(session, sqlite_settings)
        extra = session.exec(select(Story).where(Story.section == "business")).first()
    built = digest("editions", "build", "--list", "tech-and-science").output
    assert "[draft]" in built and "held: not approved" in built
    edition_id = built.split()[1]
    assert "not approved" in digest("editions", "list", "--list", "tech-and-science").output

    def headline(number: int) -> str:
        return story_line(digest("editions", "show", edition_id).output, number)

    third = headline(3).split("] ", 1)[1]
    digest("editions", "move", edition_id, "3", "--to", "1")
    assert headline(1).endswith(third)
    digest("editions", "pin", edition_id, "2")
    assert "pinned" in headline(1)
    digest("editions", "remove", edition_id, "6")
    digest("editions", "edit", edition_id, "1", "--headline", "Edited headline",
           "--summary", "An editor's summary.")
    assert headline(1).endswith("Edited headline")
    assert "An editor's summary." in digest("editions", "show", edition_id).output
    added = digest("editions", "add", edition_id, extra.url, "--at", "2").output
    assert headline(2).endswith(extra.title) and extra.title in added
    after = digest("editions", "subject", edition_id, "--subject", "Tech this week",
                   "--preheader", "Chips, rockets and more").output
    assert "subject: Tech this week" in after and "preheader: Chips, rockets and more" in after
    tested = digest("editions", "envelope", edition_id, "--subject-b", "This week in tech").output
    assert "subject B (tested against the first): This week in tech" in tested
    assert "subject B" not in digest("editions", "envelope", edition_id, "--subject-b", "").output
    assert "must be a single line" in digest("editions", "subject", edition_id, "--subject",
                                             "a\nBcc: x@example.com", ok=False).output
    assert "has no story 40" in digest("editions", "remove", edition_id, "40", ok=False).output
    assert "cannot add" in digest("editions", "add", edition_id, "http://127.0.0.1:9/x",
                                  ok=False).output

    assert f"edition {edition_id} approved" in digest("editions", "approve", edition_id).output
    refused = digest("editions", "edit", edition_id, "1", "--headline", "Too late", ok=False)
    assert f"error: edition {edition_id} is approved: only a draft can be edited" in refused.output
    for command in (("move", edition_id, "1", "--to", "2"), ("remove", edition_id, "1"),
                    ("pin", edition_id, "1"), ("subject", edition_id, "--subject", "x"),
                    ("add", edition_id, extra.url), ("approve", edition_id)):
        assert f"edition {edition_id} is approved" in digest("editions", *command, ok=False).output
    with Session(get_engine(sqlite_settings.database_url)) as session:
        assert session.get(Edition, int(edition_id)).subject == "Tech this week"


def story_line(output: str, number: int) -> str:
    """The line of `editions show` for the story at `number`."""
    return next(line for line in output.splitlines() if line.startswith(f"  {number:2}. "))


def test_summarize_prints_the_title_and_the_curators_summary(digest, tmp_path):
    page = tmp_path / "ferry.html"
    page.write_text(PAGE, encoding="utf-8")
    output = digest("summarize", str(page)).output
    assert output.startswith("Ferry returns\n\nThe island ferry returned to service on Monday")
    assert "Ann Lee" not in output and "Facebook" not in output
    assert "words, from the article's lead sentences" in output
    assert "neither a file nor an http(s) URL" in digest("summarize", "nowhere.html", ok=False).output
    assert "non-public" in digest("summarize", "http://127.0.0.1:9/page", ok=False).output
    empty = tmp_path / "empty.html"
    empty.write_text("<html><body><nav>Home</nav></body></html>", encoding="utf-8")
    assert "no article text found" in digest("summarize", str(empty), ok=False).output
