"""Engine and session creation.

One engine per database URL per process (engines pool connections; making one per call
would leak them). SQLite gets WAL and foreign keys so the embedded default behaves like
the PostgreSQL deployment in the ways the code relies on.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, create_engine

#: Seconds to wait for PostgreSQL to accept a connection (a `connect_timeout` in the URL wins).
CONNECT_TIMEOUT = 10


@lru_cache(maxsize=16)
def get_engine(database_url: str) -> Engine:
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # A database that does not answer fails the command (or /readyz) in seconds, not after
    # the operating system's TCP timeout of minutes.
    connect_args = ({"connect_timeout": CONNECT_TIMEOUT}
                    if url.get_backend_name() == "postgresql" and "connect_timeout" not in url.query
                    else {})
    return create_engine(url, pool_pre_ping=True, connect_args=connect_args)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


@contextmanager
def session_scope(database_url: str) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error."""
    with Session(get_engine(database_url), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def in_chunks(session: Session, query, column, values: set, size: int = 500) -> list:
    """Rows of `query` whose `column` is among `values`, in chunks that keep statements small."""
    ordered, rows = sorted(values), []
    for start in range(0, len(ordered), size):
        rows += session.exec(query.where(column.in_(ordered[start:start + size]))).all()
    return rows
