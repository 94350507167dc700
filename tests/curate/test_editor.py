"""Editor operations on a draft, on a real database (SQLite and PostgreSQL)."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from digest.ingest.fetch import FetchLimits
from digest.ingest.network import AddressPolicy

from digest.curate import editor
from digest.curate.editions import EditionError, approve, build_draft, items
from digest.models import DigestList, EditionStatus, Source, Story

from tests.curate.world import NOW, SLOT, digest_list, source, story

PAGE = b"""<html><head><title>Ferry returns</title>
<meta name="description" content="Short teaser."></head><body>
<nav>Home | Subscribe</nav><article><h1>Ferry returns</h1>
<p>The island ferry returned to service on Monday after a six-week refit that replaced both
engines and added a second car deck, the operator said.</p>
<p>Islanders had relied on a smaller boat that carried no vehicles during the refit.</p>
</article></body></html>"""


@pytest.fixture
def draft(session):
    herald, ledger = source(session, "herald.example"), source(session, "ledger.example")
    for n, feed in enumerate((herald, ledger, herald, ledger)):
        story(session, feed, f"story-{n}", hours_ago=n + 1, title=f"Story {n}")
    edition = build_draft(session, digest_list(session), SLOT, now=NOW)
    session.commit()
    return edition


def order(session, edition):
    return [item.headline for item in items(session, edition.id)]


def test_move_remove_and_the_subject_follows_until_an_editor_writes_one(session, draft):
    assert order(session, draft) == ["Story 0", "Story 1", "Story 2", "Story 3"]
    last = items(session, draft.id)[3]
    editor.move_item(session, draft.id, last.id, 0)
    assert order(session, draft) == ["Story 3", "Story 0", "Story 1", "Story 2"]
    assert [i.position for i in items(session, draft.id)] == [0, 1, 2, 3]
    assert draft.subject == "Story 3 + 3 more" and draft.preheader == "Story 0 \u00b7 Story 1"

    editor.remove_item(session, draft.id, items(session, draft.id)[1].id)
    assert order(session, draft) == ["Story 3", "Story 1", "Story 2"]
    assert draft.subject == "Story 3 + 2 more"

    editor.edit_envelope(session, draft.id, subject="Our pick of the morning")
    editor.move_item(session, draft.id, items(session, draft.id)[2].id, 0)
    assert draft.subject == "Our pick of the morning"  # an editor's subject stays
    assert draft.preheader == "Story 3 \u00b7 Story 1"  # the derived preheader still follows
    assert draft.subject_written and not draft.preheader_written
    # A form posts every field: an unchanged preheader does not become the editor's.
    editor.edit_envelope(session, draft.id, subject="Our pick of the morning", preheader=draft.preheader)
    assert not draft.preheader_written
    with pytest.raises(EditionError, match="position 9 is outside 1..3"):
        editor.move_item(session, draft.id, items(session, draft.id)[0].id, 8)


def test_a_pinned_story_leads(session, draft):
    third = items(session, draft.id)[2]
    editor.pin_item(session, draft.id, third.id)
    assert order(session, draft)[0] == "Story 2"
    assert items(session, draft.id)[0].pinned
    editor.pin_item(session, draft.id, third.id, pinned=False)
    assert order(session, draft)[0] == "Story 2" and not items(session, draft.id)[0].pinned


def test_edit_headline_and_summary_with_checks(session, draft):
    first = items(session, draft.id)[0]
    editor.edit_item(session, draft.id, first.id, headline="  A  better headline ",
                     summary="Two lines\nbecome one.")
    assert (first.headline, first.summary) == ("A better headline", "Two lines become one.")
    assert draft.subject == "A better headline + 3 more"
    with pytest.raises(EditionError, match="headline must be a single line"):
        editor.edit_item(session, draft.id, first.id, headline="Bcc: x@example.com\nhi")
    with pytest.raises(EditionError, match="summary cannot be empty"):
        editor.edit_item(session, draft.id, first.id, summary="   ")
    with pytest.raises(EditionError, match="subject is 301 characters"):
        editor.edit_envelope(session, draft.id, subject="x" * 301)
    with pytest.raises(EditionError, match="has no item 999999"):
        editor.edit_item(session, draft.id, 999999, headline="x")


def test_add_a_stored_story_by_its_url_even_with_tracking_parameters(session, draft):
    extra = story(session, session.get(Source, 1), "extra", hours_ago=40, title="Extra")
    item = editor.add_story(session, draft.id, extra.url + "?utm_source=rss#top", position=1)
    assert item.story_id == extra.id
    assert order(session, draft) == ["Story 0", "Extra", "Story 1", "Story 2", "Story 3"]
    with pytest.raises(EditionError, match="already in edition"):
        editor.add_story(session, draft.id, extra.url)
    blocked = story(session, session.get(Source, 1), "blocked", blocked=True)
    with pytest.raises(EditionError, match="is blocked"):
        editor.add_story(session, draft.id, blocked.url)


def test_add_a_new_page_fetches_it_as_an_editors_pick(session, draft):
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(PAGE)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/news/ferry"
        item = editor.add_story(session, draft.id, url,
                                limits=FetchLimits(policy=AddressPolicy(allow_private=True)))
        with pytest.raises(EditionError, match="non-public"):
            editor.add_story(session, draft.id, url + "-again")
    finally:
        server.shutdown()
        server.server_close()
    story_row = session.get(Story, item.story_id)
    assert session.get(Source, story_row.source_id).name == "Editor picks"
    assert item.headline == "Ferry returns" and item.position == 4
    assert item.summary.startswith("The island ferry returned to service on Monday")
    assert story_row.language == "en"  # detected from the page: its summary follows English rules


def test_an_approved_edition_refuses_every_edit(session, draft):
    first = items(session, draft.id)[0]
    approve(session, draft.id)
    assert draft.status == EditionStatus.APPROVED
    message = f"edition {draft.id} is approved: only a draft can be edited"
    for operation in (
        lambda: editor.move_item(session, draft.id, first.id, 1),
        lambda: editor.remove_item(session, draft.id, first.id),
        lambda: editor.pin_item(session, draft.id, first.id),
        lambda: editor.edit_item(session, draft.id, first.id, headline="x"),
        lambda: editor.edit_envelope(session, draft.id, subject="x"),
        lambda: editor.add_story(session, draft.id, "https://herald.example/anything"),
    ):
        with pytest.raises(EditionError, match=message):
            operation()
    with pytest.raises(EditionError, match="only a draft can be approved"):
        approve(session, draft.id)


def test_a_story_sent_before_cannot_be_added_again(session, draft):
    sent_url = session.get(Story, items(session, draft.id)[0].story_id).url
    approve(session, draft.id)
    draft.status = EditionStatus.SENT
    herald = session.get(Source, 1)
    for n in range(5, 8):
        story(session, herald, f"story-{n}")
    tomorrow = build_draft(session, session.get(DigestList, draft.list_id),
                           SLOT.replace(day=28), now=NOW)
    with pytest.raises(EditionError, match="already sent in an earlier edition"):
        editor.add_story(session, tomorrow.id, sent_url)
