"""`digest send`: start, watch and steer the delivery of an edition.

With DIGEST_BROKER_URL set the work is queued for the Celery workers; without it, it runs
here, in this process. Either way the same service functions decide what happens.
"""

from __future__ import annotations

import time

import typer

from digest.celery_app import enqueue
from digest.bounces.figures import edition_figures
from digest.cli.common import app, fail, require_queues, say
from digest.db import session_scope
from digest.mail.backends import get_backend
from digest.models import EditionStatus
from digest.send import control, ledger
from digest.send.control import Progress
from digest.send.service import (
    SendError, batches_for, format_outcomes, reconcile, run_batches, send_inline, start_send,
)
from digest.settings import Settings, get_settings

send_app = typer.Typer(help="Start, watch, pause, resume, cancel and retry sends.",
                       no_args_is_help=True)
app.add_typer(send_app, name="send")


@send_app.command("start")
def send_start(
    edition_id: int,
    wait: bool = typer.Option(False, "--wait", help="Show progress until the send is over."),
    test_to: str | None = typer.Option(None, "--test-to", metavar="ADDRESS",
                                       help="Send one copy to ADDRESS only (no ledger row)."),
) -> None:
    """Send an approved edition to every active subscriber of its list."""
    settings = get_settings()
    if test_to is not None:
        with session_scope(settings.database_url) as session:
            message_id = _run(lambda: control.send_test(
                session, settings, get_backend(settings), edition_id, test_to))
        say(f"edition {edition_id}: test copy {message_id} sent to {test_to}")
        return
    require_queues(settings)
    with session_scope(settings.database_url) as session:
        try:
            if not settings.broker_url:
                report = send_inline(session, settings, get_backend(settings), edition_id)
            else:
                # Started here, as the console does, so that a refusal (no such edition, not
                # approved, already sent, the pre-send check) is this command's error; only
                # the batches go to the workers.
                batches = start_send(session, settings, edition_id)
        except SendError as exc:
            session.rollback()
            fail(f"{exc}{_so_far(session, edition_id)}")
    if not settings.broker_url:
        _say_report(edition_id, report)
        return
    say(f"edition {edition_id}: send started, {batches} batches queued")
    _continue(settings, edition_id, batches, wait)


@send_app.command("status")
def send_status(edition_id: int) -> None:
    """The send's state and ledger counts, its current rate and time to finish, and what
    became of the mail: bounces, complaints, unsubscribes, clicks per story, warnings."""
    settings = get_settings()
    with session_scope(settings.database_url) as session:
        progress = _run(lambda: control.progress(session, edition_id))
        figures = edition_figures(session, edition_id)
    say("\n".join([_describe(progress), *figures.lines()]))


@send_app.command("pause")
def send_pause(edition_id: int) -> None:
    """Stop a send between two messages; `resume` continues it."""
    settings = get_settings()
    with session_scope(settings.database_url) as session:
        _run(lambda: control.pause_send(session, edition_id))
    say(f"edition {edition_id}: paused")


@send_app.command("resume")
def send_resume(edition_id: int,
                wait: bool = typer.Option(False, "--wait", help="Show progress until the send is over.")) -> None:
    """Continue a paused send: nobody skipped, nobody sent twice."""
    settings = get_settings()
    require_queues(settings)
    with session_scope(settings.database_url) as session:
        batches = _run(lambda: control.resume_send(session, settings, edition_id))
    say(f"edition {edition_id}: resumed")
    _continue(settings, edition_id, batches, wait)


@send_app.command("cancel")
def send_cancel(edition_id: int) -> None:
    """Stop a send for good; every message not yet sent is settled as skipped."""
    settings = get_settings()
    with session_scope(settings.database_url) as session:
        settled = _run(lambda: control.cancel_send(session, edition_id))
    say(f"edition {edition_id}: cancelled, {settled} unsent deliveries skipped")


@send_app.command("reconcile")
def send_reconcile() -> None:
    """What beat does every minute, by hand: take back the rows of batches that died, settle
    finished sends, and send what is due (queued with a broker, here without one)."""
    settings = get_settings()
    require_queues(settings)
    with session_scope(settings.database_url) as session:
        due = reconcile(session)
    if not due:
        say("no send has rows due")
    for edition_id, rows in due.items():
        say(f"edition {edition_id}: {rows} deliveries due")
        _continue(settings, edition_id, batches_for(settings, rows), wait=False)


@send_app.command("retry-failed")
def send_retry_failed(
    edition_id: int,
    include_unknown: bool = typer.Option(
        False, "--include-unknown",
        help="Also resend deliveries whose outcome is unknown (they may have arrived)."),
    wait: bool = typer.Option(False, "--wait", help="Show progress until the send is over."),
) -> None:
    """Try deferred and expired deliveries again now. Sent ones are never resent."""
    settings = get_settings()
    require_queues(settings)
    with session_scope(settings.database_url) as session:
        rows, batches = _run(lambda: control.retry_failed(
            session, settings, edition_id, include_unknown=include_unknown))
    say(f"edition {edition_id}: {rows} deliveries to retry")
    _continue(settings, edition_id, batches, wait)


def _continue(settings: Settings, edition_id: int, batches: int, wait: bool) -> None:
    """Queue the batches, or run them here when there is no broker."""
    if settings.broker_url:
        enqueue(settings, "digest.send_batch", edition_id, times=batches)
        if wait:
            _watch(settings, edition_id)
        return
    if batches:
        with session_scope(settings.database_url) as session:
            _say_report(edition_id, run_batches(session, settings, get_backend(settings), edition_id))


def _so_far(session, edition_id: int) -> str:
    """What the edition's deliveries came to, for a refusal to send it (again)."""
    counts = ledger.counts(session, edition_id)
    return f" (its deliveries: {format_outcomes(counts)})" if counts else ""


def _run(action):
    try:
        return action()
    except SendError as exc:
        fail(str(exc))


def _say_report(edition_id: int, report) -> None:
    say(f"edition {edition_id}: {format_outcomes(report.outcomes)}")
    if report.note:
        say(f"edition {edition_id}: stopped early: {report.note}")


def _describe(p: Progress) -> str:
    eta = f"{p.eta_seconds:.0f}s" if p.eta_seconds is not None else "-"
    return (f"edition {p.edition_id}: {p.status}  total {p.total}  sent {p.count('sent')}  "
            f"deferred {p.count('deferred')}  bounced {p.count('bounced')}  "
            f"skipped {p.count('skipped')}  unknown {p.count('unknown')}  "
            f"expired {p.count('expired')}  failed {p.count('failed')}  left {p.left}  "
            f"rate {p.rate:.0f}/s  eta {eta}" + (f"\n  {p.problem}" if p.problem else "")
            + (f"\n  {p.repeats_over_cap} reader(s) got a story again: more variants were needed "
               f"than DIGEST_MAX_VARIANTS allows" if p.repeats_over_cap else "")
            + "".join(f"\n  {line}" for line in (p.subject_test.lines() if p.subject_test else ()))
            + (f"\n  {p.wave_note}" if p.waiting else ""))


def _watch(settings: Settings, edition_id: int, interval: float = 1.0) -> None:
    """A progress line, redrawn while the edition is sending, then the real outcome: exit 1
    if the send stopped short (paused, cancelled)."""
    drawn = False
    with session_scope(settings.database_url) as session:
        while True:
            p = control.progress(session, edition_id)
            # Rows of a later wave (local-time delivery) may wait for hours: not watched.
            if p.status not in ("approved", "sending") or (p.total and p.left == p.waiting):
                break
            typer.echo("\r", nl=False)  # the one control character the CLI prints: a redraw
            say(f"{_bar(p.total - p.left, p.total)} {_describe(p)}", nl=False)
            drawn = True
            session.rollback()  # a fresh snapshot next time
            time.sleep(interval)
    if drawn:
        say()
    say(_describe(p))
    # "sending" with nothing left is done: its last batch is marking it sent.
    if p.status in (EditionStatus.PAUSED, EditionStatus.CANCELLED):
        raise typer.Exit(1)


def _bar(done: int, total: int, width: int = 24) -> str:
    filled = width * done // total if total else 0
    return "[" + "#" * filled + "." * (width - filled) + "]"
