"""How well `classify` reads real bounce, complaint and auto-reply mails.

    .venv/bin/python bench/bounces.py [--cache DIR] [--verbose]

Two sets, each mail labelled with what it is about (recipient and kind):
- flufl.bounce's own test mails (about a hundred real bounces, 2000-2020, from its source
  distribution, downloaded once with pip into the cache; never committed here), labelled
  in bench/bounce_labels.csv from flufl's expected addresses and each mail's diagnostic;
- the mails composed per MTA family in tests/bounces/samples/ (expected.csv).

Prints per set: hard bounces found (the address, called hard), other failures wrongly
called hard, complaints found, non-bounces ignored, mails that crashed the classifier.
"""

from __future__ import annotations

import argparse
import csv
import subprocess
import sys
import tarfile
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from digest.bounces.classify import classify
from digest.bounces.findings import Finding, Kind

LABELS = ROOT / "bench" / "bounce_labels.csv"
SAMPLES = ROOT / "tests" / "bounces" / "samples"


@dataclass
class Score:
    seen: Counter = field(default_factory=Counter)   # labelled rows per kind
    right: Counter = field(default_factory=Counter)  # rows read as labelled (soft: not hard)
    crashes: int = 0
    misses: list[str] = field(default_factory=list)


def flufl_data(cache: Path) -> Path:
    """flufl.bounce's test mails, from the cache or its sdist (the installed version)."""
    data = cache / f"flufl_bounce-{version('flufl.bounce')}" / "tests" / "data"
    if data.is_dir():
        return data
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-binary", ":all:",
                        "--no-deps", f"flufl.bounce=={version('flufl.bounce')}", "-d", scratch],
                       check=True)
        [sdist] = Path(scratch).glob("*.tar.gz")
        with tarfile.open(sdist) as archive:
            archive.extractall(cache, filter="data")
    return data


def score(folder: Path, labels: Path) -> Score:
    rows: dict[str, list[dict]] = {}
    with labels.open(newline="") as handle:
        for row in csv.DictReader(handle):
            rows.setdefault(row["file"], []).append(row)
    result = Score()
    for name, expected in sorted(rows.items()):
        try:
            findings = classify((folder / name).read_bytes())
        except Exception as error:  # counted: the target is none
            result.crashes += 1
            result.misses.append(f"{name}: crashed: {error!r}")
            continue
        if any(f.reason.startswith("unreadable mail") for f in findings):
            result.crashes += 1
        for row in expected:
            _count(result, name, row, findings)
    return result


def _count(result: Score, name: str, row: dict, findings: list[Finding]) -> None:
    wanted, address = row["kind"], row["recipient"].lower()
    kinds = {f.kind for f in findings if not address or f.recipient == address}
    if wanted == Kind.SOFT:
        ok = Kind.HARD not in kinds  # what matters is that it is not suppressed
    elif wanted == Kind.IGNORE:
        ok = all(f.kind is Kind.IGNORE for f in findings)
    else:
        ok = Kind(wanted) in kinds
    result.seen[wanted] += 1
    result.right[wanted] += ok
    if not ok:
        said = ", ".join(f"{f.kind} {f.recipient}" for f in findings)
        result.misses.append(f"{name}: expected {wanted} {address or '-'}; got {said}")


def pct(part: int, whole: int) -> str:
    return f"{part}/{whole} ({100 * part / whole:.1f}%)" if whole else "-"


def report(title: str, s: Score, verbose: bool) -> None:
    print(f"\n{title}")
    print(f"  hard bounces found            {pct(s.right['hard'], s.seen['hard'])}")
    print(f"  other failures called hard    {pct(s.seen['soft'] - s.right['soft'], s.seen['soft'])}")
    print(f"  complaints found              {pct(s.right['complaint'], s.seen['complaint'])}")
    print(f"  unsubscribe mails found       {pct(s.right['unsubscribe'], s.seen['unsubscribe'])}")
    print(f"  non-bounces ignored           {pct(s.right['ignore'], s.seen['ignore'])}")
    print(f"  crashes                       {s.crashes}")
    if verbose:
        for miss in s.misses:
            print(f"    {miss}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "digest-bench")
    parser.add_argument("--verbose", action="store_true", help="list every mismatch")
    args = parser.parse_args()
    report(f"flufl.bounce {version('flufl.bounce')} test mails (labels: bench/bounce_labels.csv)",
           score(flufl_data(args.cache), LABELS), args.verbose)
    report("composed samples (tests/bounces/samples/expected.csv)",
           score(SAMPLES, SAMPLES / "expected.csv"), args.verbose)


if __name__ == "__main__":
    main()
