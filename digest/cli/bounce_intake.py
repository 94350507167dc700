"""`digest bounces process` and `digest bounces poll`: report mails into the one intake.

`process` is also a Postfix pipe transport (``-`` reads the mail from standard input), so
its exit status speaks sysexits: 0 when the mail was dealt with (also when it was no
bounce at all), 75 (EX_TEMPFAIL) when something failed that a retry may fix (the database,
or a mail the classifier could not read: kept, not lost), 66 (EX_NOINPUT) for a file that
cannot be read.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import typer

from digest.bounces.imap import MailboxError, NotConfigured, poll
from digest.bounces.reports import mark_seen, process, unseen_in_maildir
from digest.cli.bounces import bounces_app
from digest.cli.common import fail, say
from digest.db import session_scope
from digest.settings import get_settings

EX_NOINPUT = 66
EX_TEMPFAIL = 75

log = logging.getLogger(__name__)


@bounces_app.command("process")
def bounces_process(
        paths: list[str] = typer.Argument(..., help="Mail files, maildir directories, or - for "
                                          "one mail on standard input (a Postfix pipe)."),
        quiet: bool = typer.Option(False, help="Print only failures.")) -> None:
    """Record what each report mail says and apply the policy (suppress, unsubscribe).

    A maildir's messages are marked seen once recorded, and seen ones are passed over."""
    settings = get_settings()
    status = 0
    with session_scope(settings.database_url) as session:
        for path in paths:
            for name, raw, done in _mails(path):
                if raw is None:
                    say(f"error: {name}: cannot be read", err=True)
                    status = status or EX_NOINPUT
                    continue
                try:
                    outcome = process(session, settings, raw, source="mail")
                except Exception as exc:        # kept for a retry: Postfix keeps it queued
                    log.exception("%s not processed", name)
                    say(f"error: {name}: {type(exc).__name__}: {exc}", err=True)
                    status = EX_TEMPFAIL
                    continue
                if done is not None:
                    done()
                if not quiet:
                    say(f"{name}: {outcome.summary()}")
    raise typer.Exit(status)


def _mails(path: str):
    """(name, bytes or None if unreadable, what to do once recorded) for each mail."""
    if path == "-":
        yield "<stdin>", sys.stdin.buffer.read(), None
        return
    where = Path(path)
    if where.is_dir() and (where / "cur").is_dir() and (where / "new").is_dir():
        for key, raw in unseen_in_maildir(where):
            yield f"{path}:{key}", raw, lambda key=key: mark_seen(where, key)
        return
    try:
        yield path, where.read_bytes(), None
    except OSError:
        yield path, None, None


@bounces_app.command("poll")
def bounces_poll(limit: int = typer.Option(500, min=1, help="Messages to process in this run.")) -> None:
    """Process the bounce mailbox (DIGEST_BOUNCE_IMAP_*): what beat runs every few minutes."""
    settings = get_settings()
    try:
        with session_scope(settings.database_url) as session:
            report = poll(session, settings, limit=limit)
    except (NotConfigured, MailboxError) as exc:
        fail(str(exc))
    for outcome in report.outcomes:
        say(outcome.summary())
    say(f"{report.processed} processed, {len(report.failed)} left for a person to look at"
        + (f", {report.left} for the next run" if report.left else ""))
    for failure in report.failed:
        say(f"not processed: {failure}", err=True)
