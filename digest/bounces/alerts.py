"""Telling ops, in the logs, when an edition's complaint or hard-bounce rate is over its
threshold (digest.bounces.report): once when its send finishes, and once at the moment
feedback arriving later pushes it over, never again for every report after that."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import replace

from sqlmodel import Session

from digest.bounces.report import EditionReport, edition_reports
from digest.logs import event

log = logging.getLogger(__name__)


def log_warnings(report: EditionReport, kinds: set[str] | None = None) -> None:
    """Log the report's warnings (only those of `kinds`, when given)."""
    for kind, text in report.warnings_by_kind().items():
        if kinds is None or kind in kinds:
            event(log, "edition_deliverability_warning", "edition {edition}: {warning}",
                  level=logging.WARNING, edition=report.edition_id, warning=text, kind=kind,
                  sent=report.sent, hard_bounce_rate=round(report.hard_bounce_rate, 4),
                  complaint_rate=round(report.complaint_rate, 4))


def crossings(session: Session, added: dict[int, Counter]) -> list[tuple[EditionReport, set[str]]]:
    """After storing feedback: `added` is {edition id: {"hard": n, "complaints": n}} just
    recorded (in this transaction). The editions these rows carried over a threshold, with
    the thresholds, for :func:`log_warnings` once the rows are committed."""
    found = []
    for edition_id, report in edition_reports(session, list(added)).items():
        before = replace(report, hard=report.hard - added[edition_id]["hard"],
                         complaints=report.complaints - added[edition_id]["complaints"])
        if crossed := set(report.warnings_by_kind()) - set(before.warnings_by_kind()):
            found.append((report, crossed))
    return found
