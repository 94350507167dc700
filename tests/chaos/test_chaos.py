"""The chaos suite's CI subset: the scenarios marked `ci` in suite.py, on editions of a few
hundred readers, the relay down for 10 s (`make chaos` runs all of them on thousands).
Needs the machine's PostgreSQL programs (initdb, pg_ctl) and redis-server."""

from __future__ import annotations

import glob
import shutil

import pytest

from digest import PROJECT_ROOT
from tests.chaos.suite import run_suite, select_scenarios, summary
from tests.conftest import need_service

SUBSCRIBERS = 200
OUTAGE_SECONDS = 10


@pytest.mark.chaos
@pytest.mark.timeout(900)
def test_the_chaos_subset_loses_nothing_and_sends_nothing_twice():
    need_service("PostgreSQL programs (initdb, pg_ctl)",
                 bool(glob.glob("/usr/lib/postgresql/*/bin/initdb") or shutil.which("initdb")))
    need_service("redis-server", bool(shutil.which("redis-server")))
    lines: list[str] = []
    results = run_suite(select_scenarios(None, ci=True), SUBSCRIBERS, OUTAGE_SECONDS,
                        PROJECT_ROOT / "var" / "chaos-ci", echo=lines.append)
    lines.append(summary(results))
    report = "\n".join(lines)
    print(report)
    assert len(results) >= 5
    assert sum(r.lost for r in results) == 0, report
    assert sum(r.duplicates for r in results) <= sum(r.allowed for r in results), report
    failed = [r.name for r in results if not r.ok]
    assert not failed, f"failed: {failed}\n{report}"
