"""`digest bounces poll` and the beat task against a real IMAP server (Dovecot): each
message is recorded, then moved or deleted, and never counted twice."""

import subprocess
import sys
from datetime import timedelta

import pytest
from sqlmodel import select

from digest.bounces.imap import MailboxError, poll
from digest.bounces.reports import process
from digest.celery_app import beat_schedule
from digest.models import Feedback
from digest.settings import get_settings
from digest.subscribers.suppression import email_hash, suppression_reason
from digest.tasks import poll_bounces
from tests.bounces.dovecot import PASSWORD, USER, Dovecot
from tests.bounces.mails import dsn, not_a_bounce
from tests.bounces.test_process_cli import env_of
from tests.conftest import make_settings

ADA, GRACE = "ada.lovelace@example.com", "grace.hopper@example.com"


@pytest.fixture
def dovecot():
    server = Dovecot().start()
    yield server
    server.stop()


def imap_settings(sent, server, **more):
    values = dict(bounce_address=sent.settings.bounce_address, bounce_imap_host="127.0.0.1",
                  bounce_imap_port=server.port, bounce_imap_user=USER, bounce_imap_password=PASSWORD,
                  bounce_imap_ssl=False)
    values.update(more)
    return make_settings(sent.settings.data_dir.parent, sent.settings.database_url, **values)


def hard(sent, email):
    return dsn("postfix", to=sent.return_path(email), recipient=email, status="5.1.1",
               diagnostic=f"550 5.1.1 <{email}>: Recipient address rejected: User unknown")


def feedback_count(sent, email):
    sent.session.expire_all()
    return len(sent.session.exec(select(Feedback).where(Feedback.email_hash == email_hash(email))).all())


def test_poll_records_each_mail_then_moves_it_and_a_second_poll_finds_nothing(sent, dovecot):
    for raw in (hard(sent, ADA), hard(sent, GRACE), not_a_bounce(sent.return_path(ADA))):
        dovecot.deliver(raw)
    settings = imap_settings(sent, dovecot, bounce_imap_done_folder="Processed Bounces")
    env = env_of(settings) | {f"DIGEST_BOUNCE_IMAP_{k}": str(v) for k, v in {
        "HOST": "127.0.0.1", "PORT": dovecot.port, "USER": USER, "PASSWORD": PASSWORD,
        "SSL": "false", "DONE_FOLDER": "Processed Bounces"}.items()}
    with dovecot.client() as imap:
        imap.create('"Processed Bounces"')
    command = [sys.executable, "-m", "digest.cli", "bounces", "poll"]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "3 processed, 0 left" in result.stdout
    assert dovecot.messages("INBOX") == []
    assert len(dovecot.messages("Processed Bounces")) == 3
    sent.session.expire_all()
    assert suppression_reason(sent.session, ADA) == suppression_reason(sent.session, GRACE) == "bounce"

    again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0 and "0 processed" in again.stdout
    assert feedback_count(sent, ADA) == 1


def test_without_a_done_folder_processed_mails_are_deleted(sent, dovecot):
    dovecot.deliver(hard(sent, ADA))
    report = poll(sent.session, imap_settings(sent, dovecot))
    assert report.processed == 1 and dovecot.messages("INBOX") == []
    assert suppression_reason(sent.session, ADA) == "bounce"


def test_a_server_without_move_gets_copy_and_delete(sent):
    server = Dovecot(capability="IMAP4rev1 IDLE UIDPLUS").start()
    try:
        server.deliver(hard(sent, ADA))
        with server.client() as imap:
            imap.create("Done")
        poll(sent.session, imap_settings(sent, server, bounce_imap_done_folder="Done"))
        assert server.messages("INBOX") == [] and len(server.messages("Done")) == 1
    finally:
        server.stop()


def test_a_mail_recorded_before_a_crash_is_moved_and_not_counted_again(sent, dovecot):
    raw = hard(sent, GRACE)
    dovecot.deliver(raw)
    settings = imap_settings(sent, dovecot)
    # A run that committed the report and died before it could delete the message.
    process(sent.session, settings, raw, source="imap")
    report = poll(sent.session, settings)
    assert report.processed == 1 and report.outcomes[0].duplicates == 1
    assert dovecot.messages("INBOX") == [] and feedback_count(sent, GRACE) == 1


def test_the_beat_task_polls_with_the_environments_settings(sent, dovecot, monkeypatch):
    assert {"task": "digest.poll_bounces", "schedule": timedelta(seconds=300)} in beat_schedule().values()
    dovecot.deliver(hard(sent, ADA))
    for key, value in env_of(imap_settings(sent, dovecot)).items():
        if key.startswith("DIGEST_"):
            monkeypatch.setenv(key, value)
    for key, value in {"HOST": "127.0.0.1", "PORT": dovecot.port, "USER": USER,
                       "PASSWORD": PASSWORD, "SSL": "false"}.items():
        monkeypatch.setenv(f"DIGEST_BOUNCE_IMAP_{key}", str(value))
    get_settings.cache_clear()
    try:
        poll_bounces()
    finally:
        get_settings.cache_clear()
    assert dovecot.messages("INBOX") == []
    sent.session.expire_all()
    assert suppression_reason(sent.session, ADA) == "bounce"


def test_a_refused_login_is_a_clear_error_and_touches_nothing(sent, dovecot):
    dovecot.deliver(hard(sent, ADA))
    with pytest.raises(MailboxError, match="login as 'bounces' refused"):
        poll(sent.session, imap_settings(sent, dovecot, bounce_imap_password="wrong"))
    assert len(dovecot.messages("INBOX")) == 1
    assert suppression_reason(sent.session, ADA) is None
