"""Ops control of a send on both databases: pause, resume, cancel, retry, test copies."""

import subprocess
import sys
from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlmodel import select

from digest.curate.editions import build_draft, todays_slot
from digest.mail.backends.memory import MemoryBackend
from digest.mail.errors import TemporaryFailure
from digest.models import Delivery, DeliveryStatus, Edition, EditionStatus, EditionVariant, utcnow
from digest.schedule import tick
from digest.send import control, ledger, writing
from digest.send.service import SendError, run_batches, send_batch, start_send
from tests.factories import active_emails, approved_edition, sample_world
from tests.workers import digest_env


def started(session, settings):
    morning = sample_world(session, settings)["morning-briefing"]
    edition = approved_edition(session, morning)
    start_send(session, settings, edition.id)
    return morning, edition


def test_a_paused_send_resumes_with_nobody_skipped_or_repeated(session, settings):
    morning, edition = started(session, settings)
    backend = MemoryBackend()
    settings.batch_size = 5
    send_batch(session, settings, backend, edition.id)
    control.pause_send(session, edition.id)
    assert not send_batch(session, settings, backend, edition.id).outcomes  # paused: nothing goes
    with pytest.raises(SendError, match="cannot pause edition .* paused"):
        control.pause_send(session, edition.id)
    assert control.resume_send(session, settings, edition.id) >= 1
    run_batches(session, settings, backend, edition.id)
    recipients = [m.recipient for m in backend.outbox]
    assert sorted(recipients) == sorted(active_emails(session, morning))
    progress = control.progress(session, edition.id)
    assert (progress.status, progress.left, progress.count("sent")) == ("sent", 0, len(recipients))


def test_cancel_settles_every_unsent_row_as_skipped(session, settings):
    _, edition = started(session, settings)
    settings.batch_size = 3
    send_batch(session, settings, MemoryBackend(), edition.id)
    settled = control.cancel_send(session, edition.id)
    assert ledger.counts(session, edition.id) == {"sent": 3, "skipped": settled}
    assert session.get(Edition, edition.id, populate_existing=True).status == EditionStatus.CANCELLED
    with pytest.raises(SendError, match="cannot resume"):
        control.resume_send(session, settings, edition.id)


def test_retry_failed_resends_deferred_and_expired_never_sent_or_unknown(session, settings):
    morning, edition = started(session, settings)
    emails = sorted(active_emails(session, morning))
    backend = MemoryBackend()
    backend.failures[emails[0]] = TemporaryFailure("451 later", code=451)
    run_batches(session, settings, backend, edition.id)
    assert ledger.counts(session, edition.id)["deferred"] == 1
    # One row's outcome became unknown (say, a worker died with it in flight).
    unknown_id = session.exec(select(Delivery.id).where(
        Delivery.edition_id == edition.id, Delivery.status == "sent")).first()
    session.execute(update(Delivery).where(Delivery.id == unknown_id).values(status="unknown"))
    session.commit()

    backend.failures.clear()
    rows, batches = control.retry_failed(session, settings, edition.id)
    assert (rows, batches) == (1, 1)
    run_batches(session, settings, backend, edition.id)
    assert [m.recipient for m in backend.outbox].count(emails[0]) == 1
    assert len(backend.outbox) == len(emails)  # nobody sent twice, the unknown one not resent
    assert ledger.counts(session, edition.id) == {"sent": len(emails) - 1, "unknown": 1}


def test_a_deferred_row_expires_after_the_retry_window(session, settings):
    morning, edition = started(session, settings)
    session.execute(update(Edition).where(Edition.id == edition.id)
                    .values(send_started_at=utcnow() - timedelta(hours=settings.retry_window_hours + 1)))
    session.commit()
    backend = MemoryBackend()
    first = sorted(active_emails(session, morning))[0]
    backend.failures[first] = TemporaryFailure("421 closing", code=421)
    run_batches(session, settings, backend, edition.id)
    assert ledger.counts(session, edition.id)["expired"] == 1
    assert session.get(Edition, edition.id, populate_existing=True).status == EditionStatus.SENT


def test_a_test_copy_of_a_draft_leaves_no_trace(session, settings):
    world = sample_world(session, settings)
    draft = build_draft(session, world["tech-and-science"], todays_slot(world["tech-and-science"]))
    session.commit()
    backend = MemoryBackend()
    message_id = control.send_test(session, settings, backend, draft.id, "editor@example.org")
    (message,) = backend.outbox
    assert message.message_id == message_id and message.recipient == "editor@example.org"
    assert b"Subject: [TEST] " in message.data
    assert not session.exec(select(Delivery)).all()
    assert not session.exec(select(EditionVariant)).all()
    assert session.get(Edition, draft.id, populate_existing=True).status == EditionStatus.DRAFT
    with pytest.raises(SendError, match="not a plain e-mail address"):
        control.send_test(session, settings, backend, draft.id, "a@b.c\r\nBcc: x@y.z")


def test_schedule_sends_on_time_and_not_too_late(session, settings):
    morning = sample_world(session, settings)["morning-briefing"]
    slot = todays_slot(morning)
    early = tick(session, slot - timedelta(minutes=30), max_lateness=timedelta(minutes=10))
    assert early.due == [] and early.built  # built ahead, not sent yet
    assert tick(session, slot + timedelta(minutes=5), max_lateness=timedelta(minutes=10)).due
    late = tick(session, slot + timedelta(minutes=11), max_lateness=timedelta(minutes=10))
    assert not late.due and any("not sent automatically" in n for n in late.notes)


def test_the_send_commands_in_process(sqlite_settings, tmp_path, sqlite_session):
    edition = approved_edition(sqlite_session, sample_world(sqlite_session, sqlite_settings)["morning-briefing"])
    env = digest_env(database_url=sqlite_settings.database_url, mail_backend="outbox",
                     outbox_dir=str(tmp_path / "outbox"), secret_key="test-secret",
                     data_dir=str(tmp_path / "var"))

    def digest(*args):
        return subprocess.run([sys.executable, "-m", "digest.cli", "send", *args, str(edition.id)],
                              env=env, capture_output=True, text=True, timeout=120)

    test = digest("start", "--test-to", "editor@example.org")
    assert test.returncode == 0, test.stderr
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == 1
    sent = digest("start")
    assert sent.returncode == 0 and " sent" in sent.stdout, sent.stderr
    status = digest("status")
    assert "sent" in status.stdout and "left 0" in status.stdout
    again = digest("start")
    assert again.returncode == 1 and "cannot be sent" in again.stderr


def test_reconcile_by_hand_finishes_a_send_whose_process_died(sqlite_settings, tmp_path, sqlite_session):
    """The embedded mode has no beat: `digest send reconcile` does its job on request."""
    morning = sample_world(sqlite_session, sqlite_settings)["morning-briefing"]
    edition = approved_edition(sqlite_session, morning)
    start_send(sqlite_session, sqlite_settings, edition.id)
    # A batch claimed rows and died before trying them (its lease is already over).
    assert ledger.claim(sqlite_session, edition.id, 5, lease_seconds=0)[1]
    env = digest_env(database_url=sqlite_settings.database_url, mail_backend="outbox",
                     outbox_dir=str(tmp_path / "outbox"), secret_key="test-secret",
                     data_dir=str(tmp_path / "var"))
    result = subprocess.run([sys.executable, "-m", "digest.cli", "send", "reconcile"], env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert f"edition {edition.id}: {len(active_emails(sqlite_session, morning))} deliveries due" in result.stdout
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == len(active_emails(sqlite_session, morning))
    sqlite_session.expire_all()
    assert ledger.counts(sqlite_session, edition.id) == {"sent": len(active_emails(sqlite_session, morning))}


def test_a_message_deferred_after_its_send_was_cancelled_does_not_wait_forever(session, settings):
    morning, edition = started(session, settings)
    token, rows = ledger.claim(session, edition.id, 1, lease_seconds=60)
    with writing.writer(session, token, morning.id) as writer:
        assert writer.step([], rows[0][0]) == (True, None)   # in flight...
        control.cancel_send(session, edition.id)              # ... when ops cancel
        writer.step([writing.Outcome(rows[0][0], DeliveryStatus.DEFERRED, "451 later", utcnow())], None)
    from digest.send.service import reconcile
    reconcile(session)
    session.expire_all()
    row = session.get(Delivery, rows[0][0])
    assert (row.status, row.last_error) == (DeliveryStatus.SKIPPED, "send cancelled")


def test_the_rate_of_a_send_younger_than_the_window_is_measured_since_its_first_message(session, settings):
    _, edition = started(session, settings)
    rows = session.exec(select(Delivery.id).where(Delivery.edition_id == edition.id)).all()[:10]
    now = utcnow()
    # 10 messages over the last 4 s (2.5 msg/s), the rest still pending: a 30 s average
    # would say 0.33 msg/s and an ETA seven times too long.
    for number, row in enumerate(rows):
        session.execute(update(Delivery).where(Delivery.id == row).values(
            status=DeliveryStatus.SENT, sent_at=now - timedelta(seconds=4 * number / (len(rows) - 1))))
    session.commit()
    progress = control.progress(session, edition.id)
    assert progress.left > 0 and 2.2 <= progress.rate <= 2.5
    assert progress.eta_seconds == pytest.approx(progress.left / progress.rate)

    # Sending stopped long ago: the rate is zero and there is no ETA.
    session.execute(update(Delivery).where(Delivery.id.in_(rows)).values(
        sent_at=now - timedelta(minutes=5)))
    session.commit()
    stalled = control.progress(session, edition.id)
    assert (stalled.rate, stalled.eta_seconds) == (0.0, None)
