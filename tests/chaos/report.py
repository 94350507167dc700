"""The chaos table in docs/reliability.md, between two markers (the rest of the page is
written by hand)."""

from __future__ import annotations

import platform
from datetime import datetime, timezone
from pathlib import Path

from tests.chaos.suite import SCENARIOS, Result, summary

START, END = "<!-- chaos:table:start -->", "<!-- chaos:table:end -->"
SCENARIOS_START, SCENARIOS_END = "<!-- chaos:scenarios:start -->", "<!-- chaos:scenarios:end -->"


def table(results: list[Result], subscribers: int, outage_seconds: float, elapsed: float) -> str:
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"Last full run: {when}, {subscribers} readers per edition, relay outage {outage_seconds:.0f} s, "
        f"{elapsed / 60:.1f} min in all (Python {platform.python_version()}, {platform.machine()}).",
        "",
        "| scenario | readers | received | ledger at the end | lost | duplicates | allowed (bound) | time | result |",
        "|---|---:|---:|---|---:|---:|---:|---:|---|",
    ]
    for r in results:
        ledger = ", ".join(f"{n} {status}" for status, n in sorted(r.counts.items()))
        verdict = "ok" if r.ok else f"**FAIL** {r.error or ''}".strip()
        lines.append(f"| {r.name} | {r.readers} | {r.received} | {ledger} | {r.lost} | {r.duplicates} | "
                     f"{r.allowed} ({r.bound}) | {r.seconds:.0f} s | {verdict} |")
    lines += ["", "Notes from the run:", ""]
    for r in results:
        if r.notes:
            lines.append(f"- {r.name}: " + "; ".join(r.notes))
    lines += ["", f"`{summary(results)}`"]
    return "\n".join(lines)


def _replace(page: str, start: str, end: str, body: str) -> str:
    before, found, rest = page.partition(start)
    if not found:
        raise ValueError(f"{start} is missing from the page")
    _, _, after = rest.partition(end)
    return f"{before}{start}\n{body}\n{end}{after}"


def write_docs(path: Path, results: list[Result], subscribers: int, outage_seconds: float, elapsed: float) -> None:
    """The scenarios (from their summaries in suite.py) and the table of this run."""
    page = path.read_text(encoding="utf-8")
    page = _replace(page, SCENARIOS_START, SCENARIOS_END, scenario_list())
    page = _replace(page, START, END, table(results, subscribers, outage_seconds, elapsed))
    path.write_text(page, encoding="utf-8")


def scenario_list() -> str:
    return "\n".join(f"- **{s.name}**{' (CI)' if s.ci else ''}: {s.summary}" for s in SCENARIOS)
