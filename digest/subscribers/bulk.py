"""Set-wise SQL that works on SQLite and PostgreSQL alike."""

from __future__ import annotations

from sqlalchemy import any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

from digest.db import is_postgres


def upsert(session: Session):
    """The dialect's INSERT (with ON CONFLICT support) for this session's database."""
    return pg_insert if is_postgres(session) else sqlite_insert


def among(session: Session, column, values: list):
    """`column IN values`; on PostgreSQL `= ANY(array)`, one parameter instead of a
    thousand (psycopg parses every placeholder of a statement in Python)."""
    if is_postgres(session):
        return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
    return column.in_(values)
