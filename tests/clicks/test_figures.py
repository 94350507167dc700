"""Per-edition figures (sent, bounces, complaints, unsubscribes, clicks per story) in `digest
send status`, the console's send page and the API, and the warning when rates pass the
thresholds: on the edition, and once in the logs."""

from __future__ import annotations

import logging
import re
import subprocess
import sys

from fastapi.testclient import TestClient
from sqlmodel import select

from digest.bounces.figures import edition_figures
from digest.bounces.findings import Finding, Kind
from digest.bounces.intake import record
from digest.curate.lists import update_list
from digest.mail.message import message_id
from digest.models import EditionItem
from digest.staff.accounts import add_user, create_api_token
from tests.clicks.conftest import send_edition, story_of
from tests.web.staff.conftest import PASSWORD, sign_in
from tests.workers import digest_env

ADA, GRACE = "ada.lovelace@example.com", "grace.hopper@example.com"
KATHERINE, MARGARET = "katherine.johnson@example.com", "margaret.hamilton@example.com"


def _complain(sent, email: str) -> None:
    settings = sent.client.app.state.settings
    subscriber = sent.subscriber(email)
    finding = Finding(Kind.COMPLAINT, recipient=email,
                      message_id=message_id(sent.edition.id, subscriber.id, settings.mail_domain))
    record(sent.session, settings, [finding], source="test", report_key=f"arf-{email}")



def test_figures_and_the_complaint_warning_everywhere(sent, caplog):
    sent.sent_ago(120)
    ada, grace = sent.html_links(ADA), sent.html_links(GRACE)
    for link in (ada[0], grace[0], ada[1]):
        assert sent.follow(link).status_code == 302
    top, second = story_of(ada[0]), story_of(ada[1])
    headline = dict(sent.session.exec(select(EditionItem.story_id, EditionItem.headline).where(
        EditionItem.edition_id == sent.edition.id)).all())

    with caplog.at_level(logging.WARNING, logger="digest.bounces.alerts"):
        _complain(sent, KATHERINE)
        _complain(sent, MARGARET)
    warnings = [r for r in caplog.records if getattr(r, "event", None) == "edition_deliverability_warning"]
    # Logged once, when the first complaint carried the edition over 0.1%; not again.
    assert len(warnings) == 1 and warnings[0].edition == sent.edition.id
    assert warnings[0].kind == "complaints" and "complaint rate" in warnings[0].getMessage()

    settings = sent.client.app.state.settings
    status = subprocess.run(
        [sys.executable, "-m", "digest.cli", "send", "status", str(sent.edition.id)],
        env=digest_env(database_url=settings.database_url, secret_key=settings.secret_key),
        capture_output=True, text=True, timeout=120)
    assert status.returncode == 0, status.stderr
    out = status.stdout
    assert "complaints 2" in out and "clicks 3 by 2 readers" in out
    lines = out.splitlines()
    assert any(line.split() == ["2", *headline[top].split()] for line in lines), out
    assert any(line.split() == ["1", *headline[second].split()] for line in lines), out
    assert "WARNING: complaint rate" in out

    with sent.session as session:
        ops = add_user(session, email="ops@example.org", password=PASSWORD, role="ops")
        token = create_api_token(session, ops, "test")
        session.commit()
    progress = sent.client.get(f"/api/editions/{sent.edition.id}/progress",
                               headers={"Authorization": f"Bearer {token}"}).json()
    figures = progress["deliverability"]
    assert (figures["complaints"], figures["clicks"], figures["clickers"]) == (2, 3, 2)
    assert figures["stories"][0] == {"story_id": top, "headline": headline[top], "clicks": 2}
    assert figures["sent"] == progress["sent"] and figures["complaint_rate"] > 0.001
    assert len(figures["warnings"]) == 1 and figures["warnings"][0].startswith("complaint rate")
    edition = sent.client.get(f"/api/editions/{sent.edition.id}", headers={"Authorization": f"Bearer {token}"}).json()
    assert edition["warnings"] == figures["warnings"]

    # Over https, as the public URL says: the console's cookies are Secure.
    with TestClient(sent.client.app, base_url="https://news.example.org",
                    headers={"accept": "text/html"}) as console:
        sign_in(console, "ops")
        page = console.get(f"/staff/editions/{sent.edition.id}/send").text
    assert "What became of the mail" in page and "Warning: complaint rate" in page
    assert f"<tr><td>{headline[top]}</td><td>2</td></tr>" in page.replace("&#39;", "'")


def test_no_warning_below_the_thresholds(sent, caplog):
    with caplog.at_level(logging.WARNING, logger="digest.bounces.alerts"):
        record(sent.session, sent.client.app.state.settings,
               [Finding(Kind.SOFT, recipient=ADA, status="4.2.2")], source="test", report_key="soft")
    assert not [r for r in caplog.records if getattr(r, "event", None) == "edition_deliverability_warning"]


def test_a_send_that_ends_over_the_hard_bounce_threshold_says_so_in_the_log(
        tmp_path, database_url, smtp_server, caplog):
    smtp_server.refuse[KATHERINE] = "550 5.1.1 <katherine.johnson@example.com>: no such user"
    with caplog.at_level(logging.WARNING, logger="digest.bounces.alerts"):
        world = send_edition(tmp_path, database_url, smtp_server)
    try:
        logged = [r for r in caplog.records if getattr(r, "event", None) == "edition_deliverability_warning"]
        assert [(r.edition, r.kind) for r in logged] == [(world.edition.id, "hard_bounces")]
        assert edition_figures(world.session, world.edition.id).report.refused == 1
    finally:
        world.session.close()


def test_the_lists_switch_shows_in_the_api_and_the_console(sent):
    update_list(sent.session, "morning-briefing", track_clicks=False)
    sent.session.commit()
    with sent.session as session:
        ops = add_user(session, email="ops@example.org", password=PASSWORD, role="ops")
        token = create_api_token(session, ops, "test")
        session.commit()
    lists = sent.client.get("/api/lists", headers={"Authorization": f"Bearer {token}"}).json()
    assert {d["slug"]: d["track_clicks"] for d in lists} == {
        "morning-briefing": False, "tech-and-science": True}
    with TestClient(sent.client.app, base_url="https://news.example.org",
                    headers={"accept": "text/html"}) as console:
        sign_in(console, "ops")
        page = console.get("/staff/lists").text
    rows = {m.group(1): m.group(2) for m in re.finditer(
        r'<span class="hint">([a-z-]+)</span>.*?<td>(tracked|not tracked)</td>', page, re.S)}
    assert rows == {"morning-briefing": "not tracked", "tech-and-science": "tracked"}
