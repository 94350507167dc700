"""`digest sources`: add, list, pause, resume and remove feed sources; OPML in and out."""

from collections import Counter
from datetime import datetime
from pathlib import Path

import typer

from digest.cli.common import app, fail, say
from digest.db import session_scope
from digest.ingest.fetch import limits_from
from digest.ingest.opml import OpmlError, export_opml, import_opml, sections_no_list_takes
from digest.ingest.sources import (SourceError, add_source, list_sources, pause_source,
                                   remove_source, resume_source)
from digest.settings import get_settings

sources_app = typer.Typer(help="Feed sources and their health.", no_args_is_help=True)
app.add_typer(sources_app, name="sources")


@sources_app.command("add")
def sources_add(
    url: str,
    name: str | None = typer.Option(None, "--name", help="Display name (default: the host)."),
    section: str = typer.Option("news", "--section", help="Section its stories go to."),
    weight: float = typer.Option(1.0, "--weight", help="Ranking weight, above 0 and at most 10."),
    every_minutes: int = typer.Option(60, "--every-minutes", help="Polling interval."),
) -> None:
    """Add a feed (RSS, Atom or JSON Feed); it is fetched on the next ingest run."""
    settings = get_settings()
    try:
        with session_scope(settings.database_url) as session:
            source = add_source(session, url=url, name=name, section=section, weight=weight,
                                every_minutes=every_minutes, policy=limits_from(settings).policy)
    except SourceError as exc:
        fail(str(exc))
    say(f"source {source.id} added: {source.name} [{source.section}] "
        f"every {source.poll_interval_minutes} min")


@sources_app.command("list")
def sources_list() -> None:
    """Every source with its state, last success, last error and next poll."""
    with session_scope(get_settings().database_url) as session:
        rows = list_sources(session)
    if not rows:
        say("no sources (add one with `digest sources add URL`)")
    for row in rows:
        s = row.source
        say(f"{s.id:>4}  {s.name}  [{s.section}, weight {s.weight:g}, every "
            f"{s.poll_interval_minutes} min]  {row.state}, {row.stories} stories")
        say(f"      {s.url}")
        say(f"      last success {_when(s.last_success_at)}, next poll "
            f"{'paused' if not s.active else _when(row.next_poll_at) if row.next_poll_at else 'due now'}, "
            f"consecutive failures {s.consecutive_failures}")
        if s.last_error:
            say(f"      last error ({_when(s.last_error_at)}): {s.last_error}")


@sources_app.command("pause")
def sources_pause(source_id: int) -> None:
    """Stop polling a source (its stories stay)."""
    _change(source_id, pause_source, "paused")


@sources_app.command("resume")
def sources_resume(source_id: int) -> None:
    """Poll a paused or failing source again, from the next ingest run."""
    _change(source_id, resume_source, "resumed")


@sources_app.command("remove")
def sources_remove(source_id: int) -> None:
    """Delete a source and the stories only it carried (refused if any was in an edition)."""
    try:
        with session_scope(get_settings().database_url) as session:
            removed = remove_source(session, source_id)
    except SourceError as exc:
        fail(str(exc))
    say(f"source {source_id} removed with {removed} stories")


@sources_app.command("import")
def sources_import(file: Path) -> None:
    """Add the feeds of an OPML file (folders become sections), each once; a feed already
    present is left as it is. Prints each feed outline's outcome."""
    settings = get_settings()
    try:
        data = file.read_bytes()
    except OSError as exc:
        fail(f"{file}: {exc.strerror or exc}")
    try:
        with session_scope(settings.database_url) as session:
            outcomes = import_opml(session, data, policy=limits_from(settings).policy)
            untaken = sections_no_list_takes(session, outcomes)
    except OpmlError as exc:
        fail(f"{file}: {exc}; nothing imported")
    for item in outcomes:
        outline = item.outline
        detail = f"source {item.source_id}" if item.source_id else item.reason
        say(f"{item.outcome}: {outline.title} [{outline.section}] {outline.url} ({detail})")
    counts = Counter(item.outcome for item in outcomes)
    say(f"{counts['added']} added, {counts['already present']} already present, "
        f"{counts['refused']} refused")
    if untaken:
        say(f"no list takes the sections {', '.join(untaken)} yet: add them with "
            "`digest lists update SLUG --sections ...`")


@sources_app.command("export")
def sources_export(
    out: Path | None = typer.Option(None, "--out", help="Write to this file (default: stdout)."),
) -> None:
    """Every feed source as OPML 2.0, one folder per section; `import` reads it back."""
    with session_scope(get_settings().database_url) as session:
        document = export_opml(session)
    if out is None:
        typer.echo(document.decode(), nl=False)
        return
    try:
        out.write_bytes(document)
    except OSError as exc:
        fail(f"{out}: {exc.strerror or exc}")
    say(f"{document.count(b'xmlUrl=')} sources exported to {out}", err=True)


def _change(source_id: int, action, done: str) -> None:
    try:
        with session_scope(get_settings().database_url) as session:
            source = action(session, source_id)
    except SourceError as exc:
        fail(str(exc))
    say(f"source {source.id} ({source.name}) {done}")


def _when(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC" if moment else "never"
