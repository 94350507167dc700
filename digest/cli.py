"""The `digest` command: a door into the same service functions the workers and web use.

With DIGEST_BROKER_URL set, commands that do pipeline work enqueue Celery tasks; without
it they run here, in-process.
"""

from __future__ import annotations

from pathlib import Path

import typer
from sqlmodel import select

from digest import migrate
from digest.curate.editions import EditionError, approve, build_draft, items, todays_slot
from digest.db import session_scope
from digest.ingest.service import ingest_due, ingest_file
from digest.mail.backends import get_backend
from digest.models import DigestList, Edition
from digest.render.digest import preview_html
from digest.send import ledger
from digest.send.service import SendError, format_outcomes, send_inline
from digest.settings import get_settings

# Locals in tracebacks could print secrets (settings, tokens): keep them out.
app = typer.Typer(help=__doc__, no_args_is_help=True, add_completion=False,
                  pretty_exceptions_show_locals=False)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
editions_app = typer.Typer(help="Build, inspect, approve and preview editions.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(editions_app, name="editions")


def fail(message: str) -> None:
    typer.secho(f"error: {message}", fg="red", err=True)
    raise typer.Exit(1)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply all migrations to DIGEST_DATABASE_URL."""
    migrate.upgrade(get_settings().database_url)
    typer.echo("database is up to date")


@app.command()
def ingest(file: Path | None = typer.Option(None, "--file", exists=True, dir_okay=False,
                                            help="A local feed file.")) -> None:
    """Fetch all due sources, or ingest one local feed file."""
    settings = get_settings()
    with session_scope(settings.database_url) as session:
        reports = [ingest_file(session, file)] if file else ingest_due(session)
    for report in reports:
        if report.error:
            typer.echo(f"{report.source}: rejected: {report.error}")
        else:
            typer.echo(f"{report.source}: {report.found} entries, {report.added} new")
    if file and reports[0].error:
        raise typer.Exit(1)


@editions_app.command("build")
def editions_build(list_slug: str = typer.Option(..., "--list", help="The list's slug.")) -> None:
    """Build (or find) today's draft for a list."""
    settings = get_settings()
    with session_scope(settings.database_url) as session:
        digest_list = _list(session, list_slug)
        edition = build_draft(session, digest_list, todays_slot(digest_list))
        _show(session, edition)


@editions_app.command("show")
def editions_show(edition_id: int) -> None:
    """An edition's state, subject and stories."""
    settings = get_settings()
    with session_scope(settings.database_url) as session:
        _show(session, _edition(session, edition_id))


@editions_app.command("approve")
def editions_approve(edition_id: int) -> None:
    """Approve a draft so that it can be sent."""
    settings = get_settings()
    try:
        with session_scope(settings.database_url) as session:
            approve(session, edition_id)
    except EditionError as exc:
        fail(str(exc))
    typer.echo(f"edition {edition_id} approved")


@editions_app.command("preview")
def editions_preview(edition_id: int, out: Path = typer.Option(..., "--out", help="HTML file to write.")) -> None:
    """Write the edition as a subscriber would see it, for a browser."""
    settings = get_settings()
    with session_scope(settings.database_url) as session:
        html = preview_html(session, settings, _edition(session, edition_id))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(html, encoding="utf-8")
    typer.echo(f"wrote {out}")


@app.command()
def send(edition_id: int) -> None:
    """Send an approved edition to every active subscriber of its list."""
    settings = get_settings()
    if settings.broker_url:
        from digest.celery_app import make_celery
        make_celery(settings).send_task("digest.start_send", args=[edition_id])
        typer.echo(f"edition {edition_id}: send queued on {settings.broker_url}")
        return
    with session_scope(settings.database_url) as session:
        try:
            report = send_inline(session, settings, get_backend(settings), edition_id)
        except SendError as exc:
            fail(str(exc))
        typer.echo(f"edition {edition_id}: {format_outcomes(report.outcomes)}")


@app.command()
def demo() -> None:
    """Set up the sample data and run one full cycle in-process (SQLite, outbox directory)."""
    from digest.demo import run_demo
    run_demo(get_settings(), typer.echo)


def _list(session, slug: str) -> DigestList:
    digest_list = session.exec(select(DigestList).where(DigestList.slug == slug)).one_or_none()
    if digest_list is None:
        fail(f"no list {slug!r}")
    return digest_list


def _edition(session, edition_id: int) -> Edition:
    edition = session.get(Edition, edition_id)
    if edition is None:
        fail(f"no edition {edition_id}")
    return edition


def _show(session, edition: Edition) -> None:
    typer.echo(f"edition {edition.id} [{edition.status}] slot {edition.slot:%Y-%m-%d %H:%M} UTC")
    if edition.note:
        typer.echo(f"  note: {edition.note}")
    if edition.subject:
        typer.echo(f"  subject: {edition.subject}")
    for item in items(session, edition.id):
        typer.echo(f"  {item.position + 1:2}. [{item.section}] {item.headline}")
    counts = ledger.counts(session, edition.id)
    if counts:
        typer.echo(f"  deliveries: {format_outcomes(counts)}")


if __name__ == "__main__":
    app()
