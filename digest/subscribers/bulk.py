"""Set-wise SQL that works on SQLite and PostgreSQL alike."""

from __future__ import annotations

import json

from sqlalchemy import any_, bindparam, text
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


def json_rows(session: Session, rows: list[dict], columns: dict[str, str], **constants):
    """A SELECT over `rows` sent as ONE JSON parameter, for INSERT ... SELECT.

    Binding a thousand rows as separate parameters costs far more in Python (SQLAlchemy
    processes, and psycopg parses, every placeholder) than the database spends inserting
    them; one JSON document is encoded in C and unpacked by the database.
    `columns` maps each key of the rows to its PostgreSQL type; `constants` are typed
    bound values (``name=(value, sqlalchemy_type)``) appended after them.
    """
    extra = [bindparam(name, value, type_=type_) for name, (value, type_) in constants.items()]
    tail = "".join(f", :{name}" for name in constants)
    if is_postgres(session):
        spec = ", ".join(f"{name} {pg_type}" for name, pg_type in columns.items())
        sql = (f"SELECT {', '.join(columns)}{tail} "
               f"FROM json_to_recordset(CAST(:rows AS json)) AS r({spec})")
    else:
        picks = ", ".join(f"json_extract(value, '$.{name}')" for name in columns)
        # WHERE true: SQLite needs it to tell an upsert's ON CONFLICT from a join's ON.
        sql = f"SELECT {picks}{tail} FROM json_each(:rows) WHERE true"
    return text(sql).bindparams(bindparam("rows", json.dumps(rows)), *extra).columns()
