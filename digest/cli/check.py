"""`digest check`: can this deployment work? The /readyz checks plus the mail backend."""

import typer

from digest.cli.common import app, say
from digest.health import everything
from digest.settings import get_settings


@app.command()
def check() -> None:
    """Check the database and its schema, the broker and Redis, and the relay or outbox."""
    checks = everything(get_settings())
    for one in checks:
        say(f"{'ok' if one.ok else 'FAILED':<7} {one.name:<9} {one.detail}")
    failed = [one.name for one in checks if not one.ok]
    if failed:
        say(f"not ready: {', '.join(failed)} failed", err=True)
        raise typer.Exit(1)
    say("all checks pass")
