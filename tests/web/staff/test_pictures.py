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
from digest.mail.backends import get_backend
from digest.mail.backends.memory import MemoryBackend
from digest.mail.errors import Bounce
from digest.models import Click, Delivery, DeliveryStatus, EditionItem
from digest.send import ledger
from digest.send.service import run_batches, send_batch, send_inline, start_send
from digest.send.timeline import MAX_STEPS
from digest.web.charts import percent
from tests.conftest import make_settings
from tests.factories import approved_edition, sample_world
from tests.send.conftest import add_subscribers
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


def test_the_send_page_draws_the_send_over_time_from_the_ledger(
        tmp_path, web_settings, sqlite_session, signed_in, smtp_server):
    tech = sample_world(sqlite_session, web_settings)["tech-and-science"]
    add_subscribers(sqlite_session, tech, READERS)
    edition = approved_edition(sqlite_session, tech)
    emails = sorted(f"reader{i}@example.net" for i in range(READERS))
    refused = refusing_relay(smtp_server, emails)
    settings = make_settings(tmp_path, web_settings.database_url, mail_backend="smtp",
                             smtp_port=smtp_server.port, public_url="http://testserver", batch_size=25,
                             smtp_connections=2)
    backend = get_backend(settings)
    start_send(sqlite_session, settings, edition.id)
    # Batches a second apart, as a busy worker pool takes them: the picture has several steps.
    send_batch(sqlite_session, settings, backend, edition.id)
    time.sleep(1.2)
    send_batch(sqlite_session, settings, backend, edition.id)
    time.sleep(1.2)
    run_batches(sqlite_session, settings, backend, edition.id)
    counts = ledger.counts(sqlite_session, edition.id)
    assert counts["bounced"] == list(refused.values()).count("bounced")
    assert counts["deferred"] == list(refused.values()).count("deferred") > 0
    assert counts["failed"] == list(refused.values()).count("failed") > 0

    client, _ = signed_in("editor")
    chart = read_chart(client.get(f"/staff/editions/{edition.id}/send").text, "send-timeline")

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
        Delivery.edition_id == edition.id, Delivery.status != DeliveryStatus.PENDING,
        Delivery.outcome_at.is_(None))).all()


def send_edition(session, settings, digest_list, days_ago: int, backend) -> int:
    """The list's edition of `days_ago` days ago, approved and sent."""
    edition = build_draft(session, digest_list, todays_slot(digest_list) - timedelta(days=days_ago))
    if edition.status == "draft":
        approve(session, edition.id)
    session.commit()
    send_inline(session, settings, backend, edition.id)
    return edition.id


def test_a_list_page_draws_its_last_editions_size_bounces_complaints_and_clicks(
        web_settings, sqlite_session, signed_in):
    morning = sample_world(sqlite_session, web_settings)["morning-briefing"]
    add_subscribers(sqlite_session, morning, 40)
    backend = MemoryBackend()
    # The relay refuses two addresses during the second send (they are suppressed after).
    first = send_edition(sqlite_session, web_settings, morning, 1, backend)
    backend.failures = {f"reader{i}@example.net": Bounce("550 5.1.1 no such user", code=550) for i in (3, 9)}
    ids = [first, send_edition(sqlite_session, web_settings, morning, 0, backend)]
    sent = {e: [m for m in backend.outbox if m.message_id.startswith(f"<digest.{e}.")] for e in ids}
    # A complaint about each of three mails of the first edition; readers click the second.
    for n, message in enumerate(sent[ids[0]][:3]):
        record(sqlite_session, web_settings, [Finding(Kind.COMPLAINT, recipient=message.recipient,
                                                      message_id=message.message_id)],
               source="mail", report_key=f"arf-{n}")
    story = sqlite_session.exec(select(EditionItem.story_id).where(EditionItem.edition_id == ids[1])).first()
    readers = sqlite_session.exec(select(Delivery.subscriber_id).where(
        Delivery.edition_id == ids[1], Delivery.status == DeliveryStatus.SENT).limit(5)).all()
    sqlite_session.add_all([Click(edition_id=ids[1], story_id=story, subscriber_id=r) for r in readers])
    sqlite_session.commit()

    client, _ = signed_in("editor")
    assert f'href="/staff/lists/{morning.slug}/editions"' in client.get("/staff/lists").text
    page = client.get(f"/staff/lists/{morning.slug}/editions").text
    size, bounces, complaints, clicks = (read_chart(page, f"list-chart-{i}") for i in range(1, 5))

    names = [f"#{e}" for e in ids]
    assert size.categories == list(size.stacks) == names
    assert [round(v) for v in size.series("recipients")] == [len(sent[ids[0]]), len(sent[ids[1]]) + 2]
    assert bounces.series("hard bounces")[0] == 0
    assert abs(bounces.series("hard bounces")[1] - 2 / (len(sent[ids[1]]) + 2)) < 0.001
    assert abs(complaints.series("complaints")[0] - 3 / len(sent[ids[0]])) < 0.001
    assert [round(v) for v in clicks.series("clicks")] == [0, 5]
    # The warning levels are drawn, and the numbers are in the words.
    assert bounces.root.find(f"{SVG}g[@class='threshold']") is not None
    assert f"#{ids[0]}: complaints {percent(3 / len(sent[ids[0]]))}" in complaints.desc
    assert f"#{ids[1]}: clicks 5." in clicks.desc
    assert size.axis.startswith("edition (last 20 sent")
