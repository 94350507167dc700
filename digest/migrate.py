"""Schema migrations (Alembic) run from code, so `digest db upgrade` needs no alembic.ini."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from digest import PROJECT_ROOT


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    config.attributes["database_url"] = database_url
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def revision(database_url: str, message: str) -> None:
    """Autogenerate a migration from the difference between the models and the database."""
    command.revision(alembic_config(database_url), message=message, autogenerate=True)


def pending(connection: Connection, database_url: str) -> tuple[set[str], set[str]]:
    """(the revisions the database is at, the heads this code has): equal when migrated."""
    heads = set(ScriptDirectory.from_config(alembic_config(database_url)).get_heads())
    return set(MigrationContext.configure(connection).get_current_heads()), heads
