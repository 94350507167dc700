"""Schema migrations (Alembic) run from code, so `digest db upgrade` needs no alembic.ini."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy import inspect, text

from digest import resource
from digest.db import get_engine

#: Revisions folded into the initial one, each with the revision of the same schema: a
#: database stamped with one of them is re-stamped before it is upgraded.
FOLDED = {"0104_subscriber_ids_never_reused": "0001_initial"}


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(resource("migrations")))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    config.attributes["database_url"] = database_url
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    restamp_folded(database_url)
    command.upgrade(alembic_config(database_url), revision)


def restamp_folded(database_url: str) -> None:
    """A database made before the history was folded into one initial migration names a
    revision that no longer exists; if it is the one that schema ended at, say so in
    today's terms (no schema change)."""
    with get_engine(database_url).begin() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return
        for old, new in FOLDED.items():
            connection.execute(text("UPDATE alembic_version SET version_num = :new "
                                    "WHERE version_num = :old"), {"old": old, "new": new})


def revision(database_url: str, message: str) -> None:
    """Autogenerate a migration from the difference between the models and the database."""
    command.revision(alembic_config(database_url), message=message, autogenerate=True)


def pending(connection: Connection, database_url: str) -> tuple[set[str], set[str]]:
    """(the revisions the database is at, the heads this code has): equal when migrated."""
    heads = set(ScriptDirectory.from_config(alembic_config(database_url)).get_heads())
    return set(MigrationContext.configure(connection).get_current_heads()), heads
