"""The `digest subscribers` and `digest serve` commands, run as real processes."""

import getpass
import subprocess
import sys
import time

import httpx
from sqlmodel import Session, select

from digest import migrate
from digest.db import get_engine
from digest.models import SuppressionEvent
from digest.sample import load_lists_and_subscribers
from digest.subscribers.suppression import email_hash
from tests.smtp_server import free_port
from tests.workers import digest_env


def cli_env(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    migrate.upgrade(url)
    with Session(get_engine(url)) as session:
        load_lists_and_subscribers(session)
        session.commit()
    get_engine(url).dispose()
    return digest_env(database_url=url, outbox_dir=tmp_path / "outbox", data_dir=tmp_path / "var")


def digest(env, *args):
    return subprocess.run([sys.executable, "-m", "digest.cli", *args], env=env,
                          capture_output=True, text=True, timeout=120)


def test_import_reports_by_line_and_export_writes_csv(tmp_path):
    env = cli_env(tmp_path)
    people = tmp_path / "people.csv"
    people.write_text("email,name\nnew.one@example.org,New One\nbroken@,Broken\n"
                      "ada.lovelace@example.com,Ada Lovelace\nsum@example.org,=SUM(1+1)\n", encoding="utf-8")
    report = tmp_path / "report.csv"
    result = digest(env, "subscribers", "import", str(people), "--list", "tech-and-science",
                    "--report", str(report))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "line 2: added new.one@example.org"
    assert lines[1].startswith("line 3: skipped broken@ (bad address:")
    assert lines[2] == "line 4: skipped ada.lovelace@example.com (already subscribed)"
    assert lines[-1] == "2 added, 0 updated, 2 skipped"
    assert report.read_text().splitlines()[:2] == ['"line","email","outcome","reason"',
                                                   '"2","new.one@example.org","added",""']

    exported = digest(env, "subscribers", "export", "--list", "tech-and-science")
    assert exported.returncode == 0 and '"new.one@example.org","New One","active",' in exported.stdout
    assert '"sum@example.org","\'=SUM(1+1)","active",' in exported.stdout

    no_email = tmp_path / "no-email.csv"
    no_email.write_text("address,name\nx@example.org,X\n", encoding="utf-8")
    refused = digest(env, "subscribers", "import", str(no_email), "--list", "tech-and-science")
    assert refused.returncode == 1 and "'email' column" in refused.stderr
    unknown = digest(env, "subscribers", "export", "--list", "nope")
    assert unknown.returncode == 1 and "no list 'nope'" in unknown.stderr


def test_serve_answers_on_loopback(tmp_path):
    env = cli_env(tmp_path)
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "digest.cli", "serve", "--port", str(port)],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                page = httpx.get(f"http://127.0.0.1:{port}/subscribe/tech-and-science")
                break
            except httpx.TransportError:
                assert server.poll() is None and time.monotonic() < deadline, "digest serve did not start"
                time.sleep(0.2)
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert page.status_code == 200 and "Subscribe to Tech &amp; Science Weekly" in page.text
    assert page.headers["referrer-policy"] == "no-referrer"


def test_unsuppress_lifts_with_who_and_why_and_says_when_there_is_nothing(tmp_path):
    env = cli_env(tmp_path)
    suppressed = digest(env, "subscribers", "suppress", "Gone@Example.org", "--reason", "bounce")
    assert suppressed.returncode == 0 and suppressed.stdout == "gone@example.org suppressed (bounce)\n"
    weaker = digest(env, "subscribers", "suppress", "gone@example.org", "--reason", "unsubscribed")
    assert "stays suppressed (bounce" in weaker.stdout
    lifted = digest(env, "subscribers", "unsuppress", "gone@example.org", "--reason", "mailbox fixed",
                    "--by", "kim")
    assert lifted.returncode == 0, lifted.stderr
    assert lifted.stdout == "gone@example.org is no longer suppressed (was bounce)\n"
    again = digest(env, "subscribers", "unsuppress", "gone@example.org", "--reason", "again")
    assert again.returncode == 1 and "gone@example.org is not suppressed: nothing to lift" in again.stderr
    bad = digest(env, "subscribers", "suppress", "x@example.org", "--reason", "spam")
    assert bad.returncode == 1 and "unknown suppression reason 'spam'" in bad.stderr

    with Session(get_engine(env["DIGEST_DATABASE_URL"])) as session:
        events = session.exec(select(SuppressionEvent).order_by(SuppressionEvent.id)).all()
    get_engine(env["DIGEST_DATABASE_URL"]).dispose()
    assert [(e.action, e.reason, e.actor, e.note) for e in events] == [
        ("suppress", "bounce", getpass.getuser(), None),
        ("suppress", "unsubscribed", getpass.getuser(), None),
        ("lift", "bounce", "kim", "mailbox fixed"),
    ]
    assert {e.email_hash for e in events} == {email_hash("gone@example.org")}
