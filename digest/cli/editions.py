"""`digest editions`: build, inspect, shape and approve editions.

Items are named by their position as `show` prints it (1 = the top story).
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import typer
from sqlmodel import Session, select

from digest.cli.common import app, fail, say
from digest.curate import editor
from digest.curate.editions import EditionError, approve, build_draft, hold_reason, items, todays_slot
from digest.curate.lists import ListError, get_list
from digest.db import session_scope
from digest.ingest.fetch import limits_from
from digest.models import DigestList, Edition, EditionItem
from digest.send import ledger
from digest.send.service import format_outcomes
from digest.settings import get_settings

editions_app = typer.Typer(help="Build, inspect, shape and approve editions.", no_args_is_help=True)
app.add_typer(editions_app, name="editions")

EDITION = typer.Argument(..., metavar="ID", help="The edition's id.")
NUMBER = typer.Argument(..., metavar="N", help="The item's position as `show` prints it (1 = top).")


@contextmanager
def service_session() -> Iterator[Session]:
    """A session for one command; a refused operation rolls back and prints why."""
    try:
        with session_scope(get_settings().database_url) as session:
            yield session
    except (EditionError, ListError) as exc:
        fail(str(exc))


@editions_app.command("build")
def editions_build(list_slug: str = typer.Option(..., "--list", help="The list's slug.")) -> None:
    """Build (or find) today's draft for a list."""
    with service_session() as session:
        digest_list = list_by_slug(session, list_slug)
        text = describe(session, build_draft(session, digest_list, todays_slot(digest_list)))
    say(text)


@editions_app.command("list")
def editions_list(list_slug: str | None = typer.Option(None, "--list", help="Only this list."),
                  limit: int = typer.Option(20, min=1, help="How many, newest first.")) -> None:
    """Recent editions with their state, and why any is held back."""
    with service_session() as session:
        query = select(Edition, DigestList.slug).join(DigestList, DigestList.id == Edition.list_id)
        if list_slug:
            query = query.where(Edition.list_id == list_by_slug(session, list_slug).id)
        rows = session.exec(query.order_by(Edition.slot.desc(), Edition.id.desc()).limit(limit)).all()
        lines = [f"{edition.id:5}  {slug:<20} {edition.slot:%Y-%m-%d %H:%M} UTC  "
                 f"{edition.status:<9} {len(items(session, edition.id)):3} stories"
                 + (f"  ({reason})" if (reason := hold_reason(edition)) else "")
                 for edition, slug in rows]
    say("\n".join(lines) or "no editions")


@editions_app.command("show")
def editions_show(edition_id: int = EDITION) -> None:
    """An edition's state, subject, preheader and stories with their summaries."""
    change_and_show(edition_id, lambda session: None)


@editions_app.command("approve")
def editions_approve(edition_id: int = EDITION) -> None:
    """Approve a draft so that it can be sent."""
    with service_session() as session:
        approve(session, edition_id)
    say(f"edition {edition_id} approved")


@editions_app.command("move")
def editions_move(edition_id: int = EDITION, number: int = NUMBER,
                  to: int = typer.Option(..., "--to", help="The new position (1 = top).")) -> None:
    """Move a story to another position."""
    change_and_show(edition_id, lambda session: editor.move_item(
        session, edition_id, item_at(session, edition_id, number).id, to - 1))


@editions_app.command("remove")
def editions_remove(edition_id: int = EDITION, number: int = NUMBER) -> None:
    """Take a story out of a draft."""
    change_and_show(edition_id, lambda session: editor.remove_item(
        session, edition_id, item_at(session, edition_id, number).id))


@editions_app.command("add")
def editions_add(edition_id: int = EDITION,
                 url: str = typer.Argument(..., help="The story's URL (fetched if not stored yet)."),
                 at: int | None = typer.Option(None, "--at", help="Position (default: last).")) -> None:
    """Add a story by URL: a stored story, or the page fetched as an editor's pick."""
    change_and_show(edition_id, lambda session: editor.add_story(
        session, edition_id, url, position=None if at is None else at - 1,
        limits=limits_from(get_settings())))


@editions_app.command("pin")
def editions_pin(edition_id: int = EDITION, number: int = NUMBER,
                 off: bool = typer.Option(False, "--off", help="Unpin instead.")) -> None:
    """Pin a story: it moves to the top and leads the edition."""
    change_and_show(edition_id, lambda session: editor.pin_item(
        session, edition_id, item_at(session, edition_id, number).id, not off))


@editions_app.command("edit")
def editions_edit(edition_id: int = EDITION, number: int = NUMBER,
                  headline: str | None = typer.Option(None, help="New headline."),
                  summary: str | None = typer.Option(None, help="New summary.")) -> None:
    """Rewrite a story's headline and/or summary."""
    if headline is None and summary is None:
        fail("give --headline and/or --summary")
    change_and_show(edition_id, lambda session: editor.edit_item(
        session, edition_id, item_at(session, edition_id, number).id,
        headline=headline, summary=summary))


@editions_app.command("envelope")
@editions_app.command("subject")
def editions_subject(edition_id: int = EDITION,
                     subject: str | None = typer.Option(None, help="New subject line."),
                     preheader: str | None = typer.Option(None, help="New preheader."),
                     subject_b: str | None = typer.Option(
                         None, "--subject-b", help="A second subject to test against the first "
                         "('' to drop it).")) -> None:
    """Set the subject line, the preheader and/or a second subject to test."""
    if subject is None and preheader is None and subject_b is None:
        fail("give --subject, --preheader and/or --subject-b")
    change_and_show(edition_id, lambda session: editor.edit_envelope(
        session, edition_id, subject=subject, preheader=preheader, subject_b=subject_b))


def change_and_show(edition_id: int, change: Callable[[Session], object]) -> None:
    """Apply `change` to the edition, then print it as it now is, once that is committed."""
    with service_session() as session:
        change(session)
        text = describe(session, get_edition(session, edition_id))
    say(text)


def list_by_slug(session: Session, slug: str) -> DigestList:
    digest_list = get_list(session, slug)
    if digest_list is None:
        fail(f"no list {slug!r}")
    return digest_list


def get_edition(session: Session, edition_id: int) -> Edition:
    edition = session.get(Edition, edition_id)
    if edition is None:
        fail(f"no edition {edition_id}")
    return edition


def item_at(session: Session, edition_id: int, number: int) -> EditionItem:
    current = items(session, get_edition(session, edition_id).id)
    if not 1 <= number <= len(current):
        fail(f"edition {edition_id} has no story {number} (it has {len(current)})")
    return current[number - 1]


def describe(session: Session, edition: Edition) -> str:
    """The edition as `show` prints it. Commands print it after their transaction commits:
    a reader that goes away mid-print (`| head`) must not undo what the text reports."""
    lines = [f"edition {edition.id} [{edition.status}] slot {edition.slot:%Y-%m-%d %H:%M} UTC"]
    if reason := hold_reason(edition):
        lines.append(f"  held: {reason}")
    elif edition.note:
        lines.append(f"  note: {edition.note}")
    if edition.subject:
        lines.append(f"  subject: {edition.subject}")
    if edition.subject_b:
        lines.append(f"  subject B (tested against the first): {edition.subject_b}")
    if edition.preheader:
        lines.append(f"  preheader: {edition.preheader}")
    for item in items(session, edition.id):
        pin = "pinned " if item.pinned else ""
        lines.append(f"  {item.position + 1:2}. {pin}[{item.section}] {item.headline}")
        lines.append(f"      {item.summary}")
    if counts := ledger.counts(session, edition.id):
        lines.append(f"  deliveries: {format_outcomes(counts)}")
    return "\n".join(lines)
