"""Alembic environment: the URL comes from the caller (digest.migrate), never from a file."""

from alembic import context
from sqlalchemy import pool
from sqlmodel import SQLModel

import digest.models  # noqa: F401  (registers the tables on SQLModel.metadata)
from digest.db import get_engine

config = context.config
target_metadata = SQLModel.metadata
url = config.attributes.get("database_url") or config.get_main_option("sqlalchemy.url")


def run_offline() -> None:
    context.configure(url=url, target_metadata=target_metadata, literal_binds=True,
                      render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connectable = get_engine(url)
    with connectable.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # Batch mode rebuilds a table by dropping the old one, and SQLite with foreign
            # keys on first deletes its rows, cascading to every table that refers to it.
            # The pragma is ignored inside a transaction: checked, then committed.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            if connection.exec_driver_sql("PRAGMA foreign_keys").scalar():
                raise RuntimeError("cannot turn SQLite's foreign keys off for the migration")
            connection.commit()
        try:
            # render_as_batch lets ALTER-style migrations work on SQLite too.
            context.configure(connection=connection, target_metadata=target_metadata,
                              render_as_batch=True, compare_type=True)
            with context.begin_transaction():
                context.run_migrations()
        finally:
            if sqlite:
                # Back in the pool it would serve the app with foreign keys off.
                connection.invalidate()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
