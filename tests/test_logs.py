"""Logging set up in one place for every door: level and format from the environment,
events as JSON lines on stderr, the command's own output alone on stdout."""

from __future__ import annotations

import json
import logging
import subprocess
import sys

import pytest
from pydantic import ValidationError

from digest import PROJECT_ROOT, logs
from tests.factories import active_emails, approved_edition, sample_world
from tests.workers import digest_env


@pytest.fixture
def restore_logging():
    root = logging.getLogger()
    level = root.level
    installed = []
    yield installed.append
    for handler in installed:
        root.removeHandler(handler)
    root.setLevel(level)


def test_the_level_and_format_come_from_the_environment_in_any_case(monkeypatch):
    monkeypatch.setenv("DIGEST_LOG_LEVEL", "debug")
    monkeypatch.setenv("DIGEST_LOG_FORMAT", "JSON")
    assert logs.LogSettings(_env_file=None).model_dump() == {"log_level": "DEBUG", "log_format": "json"}
    monkeypatch.setenv("DIGEST_LOG_LEVEL", "loud")
    with pytest.raises(ValidationError, match="log_level"):
        logs.LogSettings(_env_file=None)


def test_text_lines_at_the_level_set_and_an_event_in_json(capsys, restore_logging):
    log = logging.getLogger("digest.test")
    restore_logging(logs.configure(logs.LogSettings(_env_file=None, log_level="WARNING")))
    logs.event(log, "quiet", "below the level {n}", n=1)
    logs.event(log, "loud", "edition {edition}: {summary}", level=logging.WARNING, edition=7, summary="3 sent")
    (line,) = capsys.readouterr().err.splitlines()
    assert line.endswith("Z WARNING digest.test: edition 7: 3 sent")

    restore_logging(logs.configure(logs.LogSettings(_env_file=None, log_format="json")))
    logs.event(log, "batch_finished", "edition {edition}: {summary}", edition=7, summary="3 sent", sent=3)
    record = json.loads(capsys.readouterr().err)
    assert {k: record[k] for k in ("level", "logger", "message", "event", "edition", "sent")} == {
        "level": "INFO", "logger": "digest.test", "message": "edition 7: 3 sent",
        "event": "batch_finished", "edition": 7, "sent": 3}
    assert record["timestamp"].endswith("+00:00")


def test_the_cli_logs_json_to_stderr_and_keeps_stdout_for_its_output(tmp_path, sqlite_settings, sqlite_session):
    morning = sample_world(sqlite_session, sqlite_settings)["morning-briefing"]
    edition = approved_edition(sqlite_session, morning)
    readers = active_emails(sqlite_session, morning)
    env = digest_env(database_url=sqlite_settings.database_url, mail_backend="outbox",
                     outbox_dir=tmp_path / "outbox", data_dir=tmp_path / "var", environment="development",
                     public_url="https://news.example.org", from_email="Example Daily <daily@news.example.org>",
                     log_format="json", log_level="INFO")  # a command logs warnings only unless asked
    done = subprocess.run([sys.executable, "-m", "digest.cli", "send", "start", str(edition.id)],
                          env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"edition {edition.id}: {len(readers)} sent\n"
    lines = [json.loads(line) for line in done.stderr.splitlines()]
    events = {line["event"]: line for line in lines if "event" in line}
    assert (events["send_started"]["edition"], events["send_started"]["list"],
            events["send_started"]["deliveries"]) == (edition.id, "morning-briefing", len(readers))
    assert events["batch_finished"]["sent"] == len(readers)
    assert events["batch_finished"]["duration_seconds"] > 0
    assert events["send_finished"]["sent"] == len(readers)
    assert not [address for address in readers if address in done.stderr]


def test_a_command_logs_warnings_only_unless_a_level_is_set(monkeypatch, restore_logging):
    monkeypatch.delenv("DIGEST_LOG_LEVEL", raising=False)
    restore_logging(logs.configure(logs.LogSettings(_env_file=None), unset_level="WARNING"))
    assert logging.getLogger().level == logging.WARNING
    restore_logging(logs.configure(logs.LogSettings(_env_file=None, log_level="info"), unset_level="WARNING"))
    assert logging.getLogger().level == logging.INFO
