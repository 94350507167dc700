"""Every feed of the shared real-world corpus through the ingester, into a scratch SQLite database.

    .venv/bin/python bench/ingest_corpus.py [CORPUS_DIR ...]

Prints, per file, the entries found (new stories, sightings of stories already stored,
entries without a link) or the reason it was rejected, any title that is not clean plain
text, the time taken, and a summary line; then times a second pass over the same files
(nothing new expected). Exits non-zero if a file raised an exception.
"""

from __future__ import annotations

import re
import sys
import tempfile
import time
from pathlib import Path

from sqlmodel import func, select

from digest import PROJECT_ROOT, migrate
from digest.db import session_scope
from digest.ingest.service import ingest_file
from digest.models import Story

CORPUS = PROJECT_ROOT.parent / "shared" / "corpus"
FOLDERS = ["feedjira-feeds", "rss-parser-feeds"]
NOT_FEEDS = {"LICENSE", "NOTICE.md"}
UNCLEAN = re.compile(r"<[a-zA-Z/!]|&[#a-zA-Z0-9]+;|\s{2,}|^\s|\s$")


def feed_files(folders: list[Path]) -> list[Path]:
    return [p for folder in folders for p in sorted(folder.iterdir())
            if p.is_file() and p.name not in NOT_FEEDS]


def main(argv: list[str]) -> int:
    folders = [Path(a) for a in argv] or [CORPUS / name for name in FOLDERS]
    missing = [str(f) for f in folders if not f.is_dir()]
    if missing:
        print(f"corpus not found: {', '.join(missing)}")
        return 2
    files = feed_files(folders)
    crashed = rejected = entries = unclean = 0
    with tempfile.TemporaryDirectory() as scratch:
        url = f"sqlite:///{scratch}/corpus.db"
        migrate.upgrade(url)
        started = time.perf_counter()
        for path in files:
            label = f"{path.parent.name}/{path.name}"
            began = time.perf_counter()
            try:
                with session_scope(url) as session:
                    report = ingest_file(session, path)
                    titles = session.exec(select(Story.title).where(
                        Story.source_id == report.source_id)).all()
            except Exception as exc:  # noqa: BLE001 - the point is to find these
                crashed += 1
                print(f"{label:<58} CRASHED {type(exc).__name__}: {exc}")
                continue
            took = (time.perf_counter() - began) * 1000
            if report.error:
                rejected += 1
                print(f"{label:<58} rejected: {report.error}  ({took:.0f} ms)")
                continue
            entries += report.found
            dirty = [t for t in titles if UNCLEAN.search(t)]
            unclean += len(dirty)
            print(f"{label:<58} {report.summary()}  ({took:.0f} ms)")
            for title in dirty:
                print(f"    unclean title: {title!r}")
        elapsed = time.perf_counter() - started
        # The same files again, as a re-poll of feeds that did not answer 304 would be.
        again_started, again_added = time.perf_counter(), 0
        for path in files:
            with session_scope(url) as session:
                again_added += ingest_file(session, path).added
        again = time.perf_counter() - again_started
        with session_scope(url) as session:
            stored = session.exec(select(func.count()).select_from(Story)).one()
    print(f"\n{len(files)} files: {len(files) - rejected - crashed} feeds read, {rejected} rejected, "
          f"{crashed} crashed; {entries} entries, {stored} stories stored, {unclean} unclean "
          f"titles; {elapsed:.1f} s ({elapsed / max(entries, 1) * 1000:.2f} ms per entry)")
    print(f"second pass over the same files: {again_added} added, {again:.1f} s "
          f"({again / max(entries, 1) * 1000:.2f} ms per entry)")
    return 1 if crashed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
