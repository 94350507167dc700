"""Time `digest subscribers import` on 100,000 rows, on SQLite and on PostgreSQL.

    .venv/bin/python bench/import_subscribers.py [--rows 100000] [--postgres URL|--no-postgres]

Each run uses a fresh database (a temporary SQLite file; a new PostgreSQL database,
dropped afterwards) and a generated CSV in which 1% of rows are malformed and 1% repeat
an earlier address. It times a first import (all new), then the same file again (every
row already there), and prints rows per second.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlmodel import Session

from digest import migrate
from digest.db import get_engine
from digest.models import DigestList
from digest.subscribers.importing import import_csv


def write_csv(path: Path, rows: int) -> None:
    rng = random.Random(42)
    with path.open("w", encoding="utf-8") as out:
        out.write("email,name,topics\n")
        for i in range(rows):
            roll = rng.random()
            if roll < 0.01:
                out.write(f"broken-{i}@@example,Broken,\n")
            elif roll < 0.02 and i:
                out.write(f"reader{rng.randrange(i)}@example.org,Again,\n")
            else:
                out.write(f"reader{i}@example.org,Reader {i},tech;science\n")


def run(url: str, csv_path: Path) -> None:
    migrate.upgrade(url)
    with Session(get_engine(url)) as session:
        session.add(DigestList(slug="bench", name="Bench", sections=["tech", "science"]))
        session.commit()
        for label in ("first import", "same file again"):
            started = time.perf_counter()
            with csv_path.open(encoding="utf-8", newline="") as stream:
                report = import_csv(session, "bench", stream)
            seconds = time.perf_counter() - started
            rows = len(report.rows)
            print(f"  {label:16} {rows:7} rows in {seconds:6.2f} s = {rows / seconds:8.0f} rows/s  "
                  f"{report.counts()}")
    get_engine(url).dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
                        help="an admin URL; a scratch database is created beside it")
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        csv_path = Path(tmp) / "subscribers.csv"
        write_csv(csv_path, args.rows)
        print(f"SQLite ({args.rows} rows):")
        run(f"sqlite:///{Path(tmp) / 'bench.db'}", csv_path)
        if args.no_postgres:
            return
        name = f"digest_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(args.postgres, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            print(f"PostgreSQL ({args.rows} rows):")
            run(args.postgres.rsplit("/", 1)[0] + f"/{name}", csv_path)
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


if __name__ == "__main__":
    main()
