"""`python -m tests.chaos [--subscribers N] [--outage-seconds S] [--only NAME ...] [--ci]
[--write-docs]`: run the chaos scenarios, one line each, then
`chaos: scenarios=N lost=L duplicates=D allowed=A`. Exits 1 when a scenario failed
(L > 0, D > A, a copy the ledger says was never sent, more unknown rows than connections
cut off, or a send that never finished). Logs: var/chaos/."""

from __future__ import annotations

import argparse
import sys
import time

from digest import PROJECT_ROOT
from tests.chaos.report import write_docs
from tests.chaos.suite import SCENARIOS, run_suite, select_scenarios, summary


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.chaos", description=__doc__)
    parser.add_argument("--subscribers", type=int, default=3000, help="readers of the edition (default 3000)")
    parser.add_argument("--outage-seconds", type=float, default=120, help="how long the relay is down (default 120)")
    parser.add_argument("--only", nargs="+", metavar="NAME", choices=[s.name for s in SCENARIOS],
                        help="run only these scenarios")
    parser.add_argument("--ci", action="store_true", help="only the scenarios of the CI subset")
    parser.add_argument("--write-docs", action="store_true", help="put the table into docs/reliability.md")
    args = parser.parse_args()
    scenarios = select_scenarios(args.only, ci=args.ci)
    started = time.monotonic()
    results = run_suite(scenarios, args.subscribers, args.outage_seconds, PROJECT_ROOT / "var" / "chaos")
    elapsed = time.monotonic() - started
    print(summary(results))
    print(f"chaos: {elapsed:.0f}s in all, logs in var/chaos/")
    if args.write_docs:
        write_docs(PROJECT_ROOT / "docs" / "reliability.md", results, args.subscribers, args.outage_seconds, elapsed)
        print("chaos: table written to docs/reliability.md")
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
