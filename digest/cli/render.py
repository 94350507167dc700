"""`digest editions check`: the pre-send check of an edition's mail, by hand.

`digest send` runs the same check and refuses to start while it finds anything.
"""

import typer

from digest.cli.common import fail
from digest.cli.editions import editions_app, get_edition
from digest.db import session_scope
from digest.render.checks import check_edition, format_findings
from digest.settings import get_settings


@editions_app.command("check")
def editions_check(edition_id: int) -> None:
    """Check the edition's mail for size, long lines, alt text, links, styles and unsubscribe."""
    settings = get_settings()
    with session_scope(settings.database_url) as session:
        findings = check_edition(session, settings, get_edition(session, edition_id))
    if findings:
        fail(format_findings(edition_id, findings))
    typer.echo(f"edition {edition_id}: the mail passes the pre-send check")
