"""`digest editions check` and `preview`: an edition's mail, checked or shown, by hand.

`digest send` runs the same check and refuses to start while it finds anything.
"""

from pathlib import Path

import typer

from digest.cli.common import fail, say
from digest.cli.editions import editions_app, get_edition
from digest.db import session_scope
from digest.render.checks import check_edition, format_findings
from digest.render.digest import preview
from digest.settings import get_settings
from digest.subscribers.links import preview_values


@editions_app.command("check")
def editions_check(edition_id: int) -> None:
    """Check the edition's mail for size, long lines, alt text, links, styles and unsubscribe."""
    settings = get_settings()
    with session_scope(settings.database_url) as session:
        edition = get_edition(session, edition_id)
        findings = check_edition(session, settings, edition, preview_values(settings, edition))
    if findings:
        fail(format_findings(edition_id, findings))
    say(f"edition {edition_id}: the mail passes the pre-send check")


@editions_app.command("preview")
def editions_preview(edition_id: int,
                     out: Path = typer.Option(..., "--out", help="HTML file to write.")) -> None:
    """Write the edition as a subscriber would see it, for a browser."""
    settings = get_settings()
    with session_scope(settings.database_url) as session:
        edition = get_edition(session, edition_id)
        html = preview(session, settings, edition, preview_values(settings, edition)).html
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(html, encoding="utf-8")
    say(f"wrote {out}")
