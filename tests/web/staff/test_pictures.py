"""The console's pictures drawn from real work: a send through a real SMTP server that
refuses some addresses, a list's sent editions, ingests from a real HTTP feed server. Each
SVG is read back and its bars compared with what the database says."""

from __future__ import annotations

import time
from datetime import timedelta

from sqlmodel import select

from digest.bounces.findings import Finding, Kind
from digest.bounces.intake import record
from digest.curate.editions import approve, build_draft, todays_slot
from digest.ingest.service import ingest_source
from digest.ingest.sources import add_source
from digest.mail.backends import get_backend
from digest.mail.backends.memory import MemoryBackend
from digest.mail.errors import Bounce
from digest.models import Click, Delivery, DeliveryStatus, EditionItem, FetchLog, Source
from digest.send import ledger
from digest.send.service import run_batches, send_batch, send_inline, start_send
from digest.send.timeline import MAX_STEPS
from digest.web.charts import percent
from tests.conftest import make_settings
from tests.factories import approved_edition, sample_world
from tests.ingest.feed_server import FeedServer, Reply
from tests.ingest.feeds import rss
from tests.send.conftest import add_subscribers
from tests.smtp_server import free_port
from tests.web.server import running
from tests.web.staff.conftest import browser_sign_in
from tests.web.staff.svg_charts import SVG, read_chart

READERS = 60


def refusing_relay(smtp_server, emails: list[str]) -> dict[str, str]:
    """Every 7th address unknown (bounced), every 11th greylisted (deferred), every 13th
    refused after DATA (failed); never five refusals in a row, which would pause the send."""
    expected = {}
    for i, email in enumerate(emails):
        if i % 7 == 3:
            smtp_server.refuse[email] = "550 5.1.1 no such user"
            expected[email] = "bounced"
        elif i % 11 == 5:
            smtp_server.refuse[email] = "451 4.7.1 try again later"
            expected[email] = "deferred"
        elif i % 13 == 8:
            smtp_server.refuse_data[email] = "554 5.7.1 message refused by policy"
            expected[email] = "failed"
    return expected


def staged_send(tmp_path, web_settings, session, smtp_server) -> tuple[int, dict[str, int]]:
    """A real send of the tech list through the SMTP server refusing some addresses, its
    batches a second apart as a busy worker pool takes them: (edition id, ledger counts)."""
    tech = sample_world(session, web_settings)["tech-and-science"]
    add_subscribers(session, tech, READERS)
    edition = approved_edition(session, tech)
    refused = refusing_relay(smtp_server, sorted(f"reader{i}@example.net" for i in range(READERS)))
    settings = make_settings(tmp_path, web_settings.database_url, mail_backend="smtp",
                             smtp_port=smtp_server.port, public_url="http://testserver", batch_size=25,
                             smtp_connections=2)
    backend = get_backend(settings)
    start_send(session, settings, edition.id)
    send_batch(session, settings, backend, edition.id)
    time.sleep(1.2)
    send_batch(session, settings, backend, edition.id)
    time.sleep(1.2)
    run_batches(session, settings, backend, edition.id)
    counts = ledger.counts(session, edition.id)
    for status in ("bounced", "deferred", "failed"):
        assert counts[status] == list(refused.values()).count(status) > 0, status
    return edition.id, counts


def test_the_send_page_draws_the_send_over_time_from_the_ledger(
        tmp_path, web_settings, sqlite_session, signed_in, smtp_server):
    edition_id, counts = staged_send(tmp_path, web_settings, sqlite_session, smtp_server)

    client, _ = signed_in("editor")
    chart = read_chart(client.get(f"/staff/editions/{edition_id}/send").text, "send-timeline")

    steps = chart.categories
    assert 3 <= len(steps) <= MAX_STEPS
    # Cumulative: no series ever goes down, and the last step holds the whole ledger.
    for status in ("sent", "deferred", "bounced", "failed"):
        values = chart.series(status)
        assert values == sorted(values), (status, values)
        assert round(values[-1]) == counts[status], status
    # The first batch was written before the pause: the first step holds at most it.
    assert sum(chart.stacks[steps[0]].values()) <= 25 + 0.5
    last = steps[-1]
    assert f"{last}: sent {counts['sent']}, deferred {counts['deferred']}, bounced {counts['bounced']}, " \
           f"failed {counts['failed']}." in chart.desc
    assert chart.title.startswith("Deliveries over time from ")
    assert chart.axis.startswith("time since the start")
    assert chart.x_labels[0] == steps[0]
    # Every settled row has the time of its outcome.
    assert not sqlite_session.exec(select(Delivery.id).where(
        Delivery.edition_id == edition_id, Delivery.status != DeliveryStatus.PENDING,
        Delivery.outcome_at.is_(None))).all()


def send_edition(session, settings, digest_list, days_ago: int, backend) -> int:
    """The list's edition of `days_ago` days ago, approved and sent."""
    edition = build_draft(session, digest_list, todays_slot(digest_list) - timedelta(days=days_ago))
    if edition.status == "draft":
        approve(session, edition.id)
    session.commit()
    send_inline(session, settings, backend, edition.id)
    return edition.id


def sent_editions(web_settings, session) -> tuple[str, list[int], dict[int, int]]:
    """Two editions of the morning list sent, the second with two addresses refused by the
    relay; three complaints about the first, five clicks on the second: (slug, edition ids,
    mails delivered per edition)."""
    morning = sample_world(session, web_settings)["morning-briefing"]
    add_subscribers(session, morning, 40, prefix="morning")
    backend = MemoryBackend()
    first = send_edition(session, web_settings, morning, 1, backend)
    backend.failures = {f"morning{i}@example.net": Bounce("550 5.1.1 no such user", code=550) for i in (3, 9)}
    ids = [first, send_edition(session, web_settings, morning, 0, backend)]
    sent = {e: [m for m in backend.outbox if m.message_id.startswith(f"<digest.{e}.")] for e in ids}
    for n, message in enumerate(sent[ids[0]][:3]):
        record(session, web_settings, [Finding(Kind.COMPLAINT, recipient=message.recipient,
                                               message_id=message.message_id)],
               source="mail", report_key=f"arf-{n}")
    story = session.exec(select(EditionItem.story_id).where(EditionItem.edition_id == ids[1])).first()
    readers = session.exec(select(Delivery.subscriber_id).where(
        Delivery.edition_id == ids[1], Delivery.status == DeliveryStatus.SENT).limit(5)).all()
    session.add_all([Click(edition_id=ids[1], story_id=story, subscriber_id=r) for r in readers])
    session.commit()
    return morning.slug, ids, {e: len(sent[e]) for e in ids}


def test_a_list_page_draws_its_last_editions_size_bounces_complaints_and_clicks(
        web_settings, sqlite_session, signed_in):
    slug, ids, sent = sent_editions(web_settings, sqlite_session)

    client, _ = signed_in("editor")
    assert f'href="/staff/lists/{slug}/editions"' in client.get("/staff/lists").text
    page = client.get(f"/staff/lists/{slug}/editions").text
    size, bounces, complaints, clicks = (read_chart(page, f"list-chart-{i}") for i in range(1, 5))

    names = [f"#{e}" for e in ids]
    assert size.categories == list(size.stacks) == names
    assert [round(v) for v in size.series("recipients")] == [sent[ids[0]], sent[ids[1]] + 2]
    assert bounces.series("hard bounces")[0] == 0
    assert abs(bounces.series("hard bounces")[1] - 2 / (sent[ids[1]] + 2)) < 0.001
    assert abs(complaints.series("complaints")[0] - 3 / sent[ids[0]]) < 0.001
    assert [round(v) for v in clicks.series("clicks")] == [0, 5]
    # The warning levels are drawn, and the numbers are in the words.
    assert bounces.root.find(f"{SVG}g[@class='threshold']") is not None
    assert f"#{ids[0]}: complaints {percent(3 / sent[ids[0]])}" in complaints.desc
    assert f"#{ids[1]}: clicks 5." in clicks.desc
    assert size.axis.startswith("edition (last 20 sent")


def fetched_sources(tmp_path, web_settings, session, feeds: FeedServer) -> dict[str, int]:
    """Two feeds over HTTP fetched a few times: "steady" always answers (new stories each
    day), "flaky" fails on its second day. Earlier fetches are moved back a day each, as
    if the days had passed. Returns the sources' ids by name."""
    settings = make_settings(tmp_path, web_settings.database_url, fetch_allowed_hosts=["localhost"])
    ids = {}
    for name in ("steady", "flaky"):
        ids[name] = add_source(session, url=feeds.url(f"/{name}"), name=name).id
    session.commit()
    replies = {"steady": [[1, 2, 3], [1, 2, 3, 4], [1, 2, 3, 4, 5, 6]], "flaky": [[7, 8], None, [7, 8, 9]]}
    for day in range(3):
        for old in session.exec(select(FetchLog)).all():
            old.at -= timedelta(days=1)
        session.commit()
        for name, source_id in ids.items():
            numbers = replies[name][day]
            feeds.routes[f"/{name}"] = Reply(200, rss([
                {"title": f"Story {n} from a {name} feed", "link": f"https://{name}.example.org/{n}"}
                for n in numbers])) if numbers else Reply(503, b"down for maintenance")
            ingest_source(session, session.get(Source, source_id), settings)
            session.commit()
    return ids


def test_the_sources_page_draws_each_feeds_fetches_and_new_stories_by_day(
        tmp_path, web_settings, sqlite_session, signed_in, feed_server):
    ids = fetched_sources(tmp_path, web_settings, sqlite_session, feed_server)

    client, _ = signed_in("editor")
    page = client.get("/staff/sources").text
    fetches = {name: read_chart(page, f"fetches-{i}") for name, i in ids.items()}
    stories = {name: read_chart(page, f"stories-{i}") for name, i in ids.items()}

    for name in ids:
        assert len(fetches[name].categories) == 14
        assert fetches[name].axis == "day (UTC, last 14)"
    assert [round(v) for v in fetches["steady"].series("ok")[-3:]] == [1, 1, 1]
    assert [round(v) for v in fetches["flaky"].series("ok")[-3:]] == [1, 0, 1]
    assert [round(v) for v in fetches["flaky"].series("failed")[-3:]] == [0, 1, 0]
    assert sum(fetches["flaky"].series("failed")) == 1
    assert [round(v) for v in stories["steady"].series("new stories")[-3:]] == [3, 1, 2]
    assert [round(v) for v in stories["flaky"].series("new stories")[-3:]] == [2, 0, 1]
    yesterday = fetches["flaky"].categories[-2]
    assert f"{yesterday}: ok 0, failed 1;" in fetches["flaky"].desc


def test_the_pictures_fit_a_phone_and_a_desktop_in_chromium(
        tmp_path, web_settings, sqlite_session, staff, smtp_server, feed_server, browser, artifacts):
    edition_id, _ = staged_send(tmp_path, web_settings, sqlite_session, smtp_server)
    slug, _, _ = sent_editions(web_settings, sqlite_session)
    ids = fetched_sources(tmp_path, web_settings, sqlite_session, feed_server)
    pages = {"send": (f"/staff/editions/{edition_id}/send", ["send-timeline"]),
             "list": (f"/staff/lists/{slug}/editions", [f"list-chart-{i}" for i in range(1, 5)]),
             "source": ("/staff/sources", [f"fetches-{ids['flaky']}", f"stories-{ids['flaky']}"])}
    with running(web_settings, free_port()) as base:
        for width, scheme in ((375, "light"), (1280, "light"), (1280, "dark")):
            context = browser.new_context(viewport={"width": width, "height": 900}, color_scheme=scheme)
            page = context.new_page()
            browser_sign_in(page, base, "ops")
            for name, (path, figures) in pages.items():
                page.goto(base + path)
                for figure in figures:
                    svg = page.locator(f"#{figure} svg")
                    box = svg.bounding_box()
                    # Scaled to the container: whole on the screen, never wider than the page.
                    assert box["x"] >= 0 and box["x"] + box["width"] <= width, (figure, box)
                    assert box["height"] > 80, (figure, box)
                page.locator(f"#{figures[0]}").evaluate("e => e.closest('section, .chart-grid').scrollIntoView()")
                page.locator(f"#{figures[0]}").locator("xpath=..").screenshot(
                    path=artifacts / f"picture-{name}-{width}{'-dark' if scheme == 'dark' else ''}.png")
            context.close()


def test_before_anything_is_sent_the_pages_say_so_instead_of_an_empty_chart(
        web_settings, sqlite_session, signed_in):
    tech = sample_world(sqlite_session, web_settings)["tech-and-science"]
    edition = approved_edition(sqlite_session, tech)

    client, _ = signed_in("editor")
    send_page = client.get(f"/staff/editions/{edition.id}/send").text
    list_page = client.get(f"/staff/lists/{tech.slug}/editions").text

    assert '<p class="hint" id="send-timeline">Deliveries over time, cumulative: Nothing has been sent yet.</p>' \
        in send_page
    assert "No edition of this list has been sent yet." in list_page
    assert "<svg" not in send_page and "<svg" not in list_page
    assert client.get("/staff/lists/no-such-list/editions").url.path == "/staff/lists"
