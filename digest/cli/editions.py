"""`digest editions`: build, inspect, approve and preview editions."""

from pathlib import Path

import typer
from sqlmodel import Session, select

from digest.cli.common import app, fail
from digest.curate.editions import EditionError, approve, build_draft, items, todays_slot
from digest.db import session_scope
from digest.models import DigestList, Edition
from digest.render.digest import preview_html
from digest.send import ledger
from digest.send.service import format_outcomes
from digest.settings import get_settings

editions_app = typer.Typer(help="Build, inspect, approve and preview editions.", no_args_is_help=True)
app.add_typer(editions_app, name="editions")


@editions_app.command("build")
def editions_build(list_slug: str = typer.Option(..., "--list", help="The list's slug.")) -> None:
    """Build (or find) today's draft for a list."""
    settings = get_settings()
    with session_scope(settings.database_url) as session:
        digest_list = get_list(session, list_slug)
        show(session, build_draft(session, digest_list, todays_slot(digest_list)))


@editions_app.command("show")
def editions_show(edition_id: int) -> None:
    """An edition's state, subject and stories."""
    settings = get_settings()
    with session_scope(settings.database_url) as session:
        show(session, get_edition(session, edition_id))


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
def editions_preview(edition_id: int,
                     out: Path = typer.Option(..., "--out", help="HTML file to write.")) -> None:
    """Write the edition as a subscriber would see it, for a browser."""
    settings = get_settings()
    with session_scope(settings.database_url) as session:
        html = preview_html(session, settings, get_edition(session, edition_id))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(html, encoding="utf-8")
    typer.echo(f"wrote {out}")


def get_list(session: Session, slug: str) -> DigestList:
    digest_list = session.exec(select(DigestList).where(DigestList.slug == slug)).one_or_none()
    if digest_list is None:
        fail(f"no list {slug!r}")
    return digest_list


def get_edition(session: Session, edition_id: int) -> Edition:
    edition = session.get(Edition, edition_id)
    if edition is None:
        fail(f"no edition {edition_id}")
    return edition


def show(session: Session, edition: Edition) -> None:
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
