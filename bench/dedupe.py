"""Near-duplicate detection at scale: one feed of N synthetic entries into a fresh SQLite database.

    .venv/bin/python bench/dedupe.py [N ...]        # default: 1000 2000 4000 6000

For each size: a scratch SQLite database (WAL, as deployed) with one source, and one RSS feed
of N entries (tests/ingest/feeds.py `headlines`: every 20th a light edit of an earlier one)
published within the last day, so every entry lies in every other's 48-hour window: the worst
case for title comparisons. Prints the time `ingest_file` takes (wall clock, and CPU time of
this process, which other load on the machine disturbs less) and the longest time a write
transaction stayed open, from its first INSERT/UPDATE/DELETE to COMMIT or ROLLBACK (SQLite's
write lock, which a concurrent unsubscribe waits for), and the outcomes, which a faster
matcher must not change.
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from sqlalchemy import event

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # for tests.ingest.feeds

from digest import migrate  # noqa: E402
from digest.db import get_engine, session_scope  # noqa: E402
from digest.ingest.service import get_or_create_source, ingest_file  # noqa: E402
from tests.ingest.feeds import headlines, rss  # noqa: E402

SIZES = [1000, 2000, 4000, 6000]
WRITES = ("INSERT", "UPDATE", "DELETE")


class WriteClock:
    """The longest stretch from a transaction's first write statement to its end."""

    def __init__(self, engine) -> None:
        self.started: float | None = None
        self.longest = 0.0
        event.listen(engine, "before_cursor_execute", self._statement)
        event.listen(engine, "commit", self._ended)
        event.listen(engine, "rollback", self._ended)

    def _statement(self, _conn, _cursor, statement, *_args) -> None:
        if self.started is None and statement.lstrip().upper().startswith(WRITES):
            self.started = time.perf_counter()

    def _ended(self, _conn) -> None:
        if self.started is not None:
            self.longest = max(self.longest, time.perf_counter() - self.started)
            self.started = None


def run(size: int, scratch: Path) -> str:
    rng = random.Random(size)
    path = scratch / f"feed-{size}.xml"
    path.write_bytes(rss([{"title": title, "link": f"https://bench.example.org/{n}",
                           "guid": f"bench-{n}", "hours_ago": rng.uniform(0, 24)}
                          for n, title in enumerate(headlines(size))]))
    url = f"sqlite:///{scratch}/dedupe-{size}.db"
    migrate.upgrade(url)
    with session_scope(url) as session:
        get_or_create_source(session, url=path.resolve().as_uri(), name="bench")
    clock = WriteClock(get_engine(url))
    began, cpu = time.perf_counter(), time.process_time()
    with session_scope(url) as session:
        report = ingest_file(session, path)
    took, cpu = time.perf_counter() - began, time.process_time() - cpu
    outcomes = Counter(outcome for outcome, _ in report.entries)
    return (f"{size:>5} entries  {took:6.1f} s (cpu {cpu:6.1f} s)  write lock {clock.longest:6.2f} s  "
            f"new {outcomes['new']}, sighting {outcomes['sighting']}, known {outcomes['known']}")


def main(argv: list[str]) -> int:
    sizes = [int(a) for a in argv] or SIZES
    with tempfile.TemporaryDirectory() as scratch:
        for size in sizes:
            print(run(size, Path(scratch)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
