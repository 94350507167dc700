"""What "no story twice" costs at send start (PostgreSQL): N readers of a list, half of them
also readers of a second list whose edition went out first with overlapping stories, a
tenth with a topic choice. Times the start of the second send, and within it the regrouping
(digest.send.repeats.regroup: the set-based "what reached whom", the reserves, the grouping).

    python bench/repeats.py [--subscribers 100000] [--no-repeat-days 0]   # 0: the cost without it

The last line is `start_send_s=... regroup_s=... assign_variants_s=... readers_leaving_out=...
variants=...` (assign_variants: writing each reader's variant key into the ledger).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlmodel import Session, select  # noqa: E402

from digest import migrate  # noqa: E402
from digest.curate.editions import approve, build_draft, todays_slot  # noqa: E402
from digest.db import get_engine  # noqa: E402
from digest.ingest.service import ingest_file  # noqa: E402
from digest.models import DigestList, EditionStatus, EditionVariant  # noqa: E402
from digest.sample import load_lists_and_subscribers, write_feeds  # noqa: E402
from digest.send import repeats, service  # noqa: E402
from digest.settings import Settings  # noqa: E402

POSTGRES = os.environ.get("DIGEST_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def make_world(session: Session, settings: Settings, subscribers: int) -> dict[str, DigestList]:
    load_lists_and_subscribers(session)
    for path, feed in write_feeds(settings.data_dir / "feeds"):
        ingest_file(session, path, name=feed["title"], section=feed["section"], weight=feed["weight"])
    lists = {d.slug: d for d in session.exec(select(DigestList)).all()}
    session.execute(text(
        "INSERT INTO subscriber (email, name, created_at) SELECT 'bench' || g || '@example.net', "
        "'Reader ' || g, now() FROM generate_series(1, :n) AS g"), {"n": subscribers})
    session.execute(text(
        "INSERT INTO subscription (subscriber_id, list_id, status, topics, created_at) "
        "SELECT id, :list, 'active', CAST(CASE WHEN id % 10 = 0 THEN '[\"tech\"]' ELSE '[]' END AS json), now() "
        "FROM subscriber WHERE email LIKE 'bench%'"), {"list": lists["tech-and-science"].id})
    session.execute(text(
        "INSERT INTO subscription (subscriber_id, list_id, status, topics, created_at) "
        "SELECT id, :list, 'active', '[]', now() FROM subscriber WHERE email LIKE 'bench%' AND id % 2 = 0"),
        {"list": lists["morning-briefing"].id})
    session.commit()
    return lists


def approved(session: Session, digest_list: DigestList) -> int:
    edition = build_draft(session, digest_list, todays_slot(digest_list))
    if edition.status == EditionStatus.DRAFT:
        approve(session, edition.id)
    session.commit()
    return edition.id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--no-repeat-days", type=float, default=7)
    options = parser.parse_args()
    name = f"digest_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = POSTGRES.rsplit("/", 1)[0] + f"/{name}"
    work = ROOT / "var" / "bench" / name
    work.mkdir(parents=True, exist_ok=True)
    try:
        settings = Settings(_env_file=None, environment="development", database_url=url,
                            public_url="https://news.example.org", secret_key="bench-secret",
                            data_dir=str(work), no_repeat_days=options.no_repeat_days)
        migrate.upgrade(url)
        with Session(get_engine(url), expire_on_commit=False) as session:
            lists = make_world(session, settings, options.subscribers)
            first = approved(session, lists["morning-briefing"])
            service.start_send(session, settings, first)
            # The first list's mail went out: every row sent, set-wise.
            session.execute(text("UPDATE delivery SET status = 'sent', sent_at = now() WHERE edition_id = :e"),
                            {"e": first})
            session.commit()
            second = approved(session, lists["tech-and-science"])
            timed = {}
            real = repeats.regroup

            def regroup(*args, **kwargs):
                started = time.perf_counter()
                result = real(*args, **kwargs)
                timed["regroup"], timed["result"] = time.perf_counter() - started, result
                return result

            real_assign = service.ledger.assign_variants

            def assign_variants(*args, **kwargs):
                started = time.perf_counter()
                real_assign(*args, **kwargs)
                timed["assign"] = time.perf_counter() - started

            repeats.regroup = regroup
            service.ledger.assign_variants = assign_variants
            started = time.perf_counter()
            service.start_send(session, settings, second)
            total = time.perf_counter() - started
            variants = len(session.exec(select(EditionVariant.key).where(EditionVariant.edition_id == second)).all())
        print(f"start_send_s={total:.2f} regroup_s={timed['regroup']:.2f} assign_variants_s={timed['assign']:.2f} "
              f"readers_leaving_out={timed['result'].leaving_out} variants={variants} "
              f"subscribers={options.subscribers}")
    finally:
        get_engine(url).dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
