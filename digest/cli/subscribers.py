"""`digest subscribers`: import, export, suppress and unsuppress, over the same services the web uses."""

import getpass
import sys
from pathlib import Path

import typer

from digest.cli.common import app, fail, say
from digest.db import session_scope
from digest.subscribers.addresses import BadAddress, normalise_email
from digest.subscribers.importing import ImportFileError, export_csv, import_csv, write_report
from digest.subscribers.signup import UnknownList
from digest.subscribers.suppression import STRENGTH, lift, suppress, suppression_reason
from digest.settings import get_settings

subscribers_app = typer.Typer(help="Import, export, suppress and unsuppress subscribers.", no_args_is_help=True)
app.add_typer(subscribers_app, name="subscribers")

LIST = typer.Option(..., "--list", help="The list's slug.")


@subscribers_app.command("import")
def subscribers_import(
        file: Path = typer.Argument(..., exists=True, dir_okay=False, help="CSV with a header row: "
                                    "email, and optionally name and topics (separated by ';')."),
        list_slug: str = LIST,
        report: Path | None = typer.Option(None, help="Write every row's outcome here as CSV."),
        quiet: bool = typer.Option(False, help="Print only skipped rows and the totals.")) -> None:
    """Import subscribers (active at once) into a list; prints each row's outcome by line."""
    settings = get_settings()
    with file.open(encoding="utf-8-sig", newline="") as lines:
        total = max(sum(1 for _ in lines) - 1, 0)
    try:
        with file.open(encoding="utf-8-sig", newline="") as stream, \
                typer.progressbar(length=total, label="importing", file=sys.stderr) as bar, \
                session_scope(settings.database_url) as session:
            result = import_csv(session, list_slug, stream, progress=bar.update)
    except (ImportFileError, UnknownList) as exc:
        fail(f"{file}: {exc}")
    except UnicodeDecodeError as exc:
        fail(f"{file}: not UTF-8 text ({exc.reason} at byte {exc.start})")
    for row in result.rows:
        if row.outcome == "skipped" or not quiet:
            say(f"line {row.line}: {row.outcome} {row.email}" + (f" ({row.reason})" if row.reason else ""))
    if report:
        with report.open("w", encoding="utf-8", newline="") as out:
            write_report(result.rows, out)
    counts = result.counts()
    say(f"{counts['added']} added, {counts['updated']} updated, {counts['skipped']} skipped")


@subscribers_app.command("export")
def subscribers_export(list_slug: str = LIST,
                       out: Path | None = typer.Option(None, help="CSV file (default: stdout).")) -> None:
    """Export a list's subscribers (every status) as CSV."""
    settings = get_settings()
    try:
        with session_scope(settings.database_url) as session:
            if out is None:
                count = export_csv(session, list_slug, sys.stdout)
            else:
                with out.open("w", encoding="utf-8", newline="") as stream:
                    count = export_csv(session, list_slug, stream)
    except UnknownList as exc:
        fail(str(exc))
    say(f"{count} subscribers exported", err=True)


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):     # no login name in the environment or the passwd file
        return "unknown"


BY = typer.Option(None, "--by", help="Who does this, for the audit (default: your OS user).")


def _address(email: str) -> str:
    try:
        return normalise_email(email)
    except BadAddress as exc:
        fail(f"{email}: {exc}")


@subscribers_app.command("suppress")
def subscribers_suppress(
        email: str,
        reason: str = typer.Option("complaint", help=f"One of: {', '.join(STRENGTH)}. A stronger "
                                   "reason replaces a weaker one, never the reverse."),
        by: str | None = BY,
        note: str | None = typer.Option(None, help="Why, for the audit.")) -> None:
    """Put an address on the suppression list (e.g. after a spam complaint)."""
    settings = get_settings()
    address = _address(email)
    with session_scope(settings.database_url) as session:
        try:
            changed = suppress(session, address, reason, actor=by or _os_user(), note=note)
        except ValueError as exc:
            fail(str(exc))
        kept = suppression_reason(session, address)
    say(f"{address} suppressed ({reason})" if changed
               else f"{address} stays suppressed ({kept}: at least as strong as {reason})")


@subscribers_app.command("unsuppress")
def subscribers_unsuppress(
        email: str,
        reason: str = typer.Option(..., help="Why it is lifted, for the audit."),
        by: str | None = BY) -> None:
    """Lift an address's suppression, whatever its reason; recorded with who, why and when."""
    settings = get_settings()
    address = _address(email)
    with session_scope(settings.database_url) as session:
        lifted = lift(session, address, actor=by or _os_user(), note=reason)
    if lifted is None:
        fail(f"{address} is not suppressed: nothing to lift")
    say(f"{address} is no longer suppressed (was {lifted})")
