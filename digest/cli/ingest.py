"""`digest ingest`: fetch sources into stories."""

from pathlib import Path

import typer

from digest.cli.common import app, fail, require_queues, say
from digest.db import session_scope
from digest.ingest.service import IngestReport, due_source_ids, ingest_due_or_queue, ingest_file, ingest_source
from digest.ingest.sources import SourceError, get_source
from digest.settings import Settings, get_settings


@app.command()
def ingest(
    file: Path | None = typer.Option(None, "--file", exists=True, dir_okay=False,
                                     help="A local feed file: list its entries."),
    source_id: int | None = typer.Option(None, "--source", help="Fetch this source now."),
) -> None:
    """Fetch all due sources (queued with a broker), one source, or a local feed file."""
    settings = get_settings()
    if file and source_id is not None:
        fail("give --file or --source, not both")
    if file:
        with session_scope(settings.database_url) as session:
            report = ingest_file(session, file, settings=settings)
        _print_file(report)
    elif source_id is not None:
        with session_scope(settings.database_url) as session:
            try:
                source = get_source(session, source_id)
            except SourceError as exc:
                fail(str(exc))
            if not source.url.startswith(("http://", "https://")):
                fail(f"source {source_id} is a local file ({source.url}): use --file")
            report = ingest_source(session, source, settings)
        _print(report)
    else:
        _ingest_due(settings)
        return
    if report.error:
        raise typer.Exit(1)


def _ingest_due(settings: Settings) -> None:
    with session_scope(settings.database_url) as session:
        total = len(due_source_ids(session))
    if not total:
        say("no source is due")
        return
    if settings.broker_url:
        require_queues(settings)
    done = 0

    def progress(one: IngestReport, due: int) -> None:  # called once each source is committed
        nonlocal done
        done += 1
        say(f"[{done}/{due}] {one.source}: {one.summary()}")

    reports = ingest_due_or_queue(settings, progress=progress)
    if reports is None:
        say(f"ingest of {total} due sources queued")
        return
    failed = sum(1 for r in reports if r.error)
    say(f"{len(reports)} sources fetched, {failed} failed, {sum(r.added for r in reports)} new stories")


def _print(report: IngestReport) -> None:
    say(f"{report.source}: {report.summary()}")


def _print_file(report: IngestReport) -> None:
    if report.error:
        fail(f"{report.source}: rejected: {report.error}")
    _print(report)
    for outcome, title in report.entries:
        say(f"  {outcome:<8} {title}")
