"""`digest db`: the schema."""

import typer

from digest import migrate
from digest.cli.common import app, say
from digest.settings import get_settings

db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply all migrations to DIGEST_DATABASE_URL."""
    migrate.upgrade(get_settings().database_url)
    say("database is up to date")
