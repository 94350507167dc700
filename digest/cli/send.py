"""`digest send`: deliver an approved edition."""

import typer

from digest.cli.common import app, fail
from digest.db import session_scope
from digest.mail.backends import get_backend
from digest.send.service import SendError, format_outcomes, send_inline
from digest.settings import get_settings


@app.command()
def send(edition_id: int) -> None:
    """Send an approved edition to every active subscriber of its list."""
    settings = get_settings()
    if settings.broker_url:
        from digest.celery_app import make_celery
        make_celery(settings).send_task("digest.start_send", args=[edition_id])
        typer.echo(f"edition {edition_id}: send queued")
        return
    with session_scope(settings.database_url) as session:
        try:
            report = send_inline(session, settings, get_backend(settings), edition_id)
        except SendError as exc:
            fail(str(exc))
        typer.echo(f"edition {edition_id}: {format_outcomes(report.outcomes)}")
