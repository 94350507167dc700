"""`digest ingest`: fetch sources into stories."""

from pathlib import Path

import typer

from digest.cli.common import app
from digest.db import session_scope
from digest.ingest.service import ingest_due, ingest_file
from digest.settings import get_settings


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
