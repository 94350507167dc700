"""TEMPORARY stub of the one intake service, so the webhooks have something to end in.

The real one (attribution to a delivery, soft-bounce counting, unsubscribe everywhere)
replaces this file at merge; it keeps this signature."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, select

from digest.bounces.findings import Finding, Kind
from digest.models import Feedback
from digest.subscribers.suppression import email_hash, suppress

_SUPPRESS = {Kind.HARD: "bounce", Kind.COMPLAINT: "complaint"}


@dataclass
class Outcome:
    stored: int = 0
    duplicates: int = 0
    ignored: int = 0


def record(session: Session, findings: list[Finding], *, source: str,
           report_key: str | None) -> Outcome:
    """Store each finding once per (report_key, address) and suppress hard bounces and
    complaints. No commit."""
    outcome = Outcome()
    for finding in findings:
        if finding.kind is Kind.IGNORE or not finding.recipient:
            outcome.ignored += 1
            continue
        hashed = email_hash(finding.recipient)
        if report_key is not None and session.exec(select(Feedback.id).where(
                Feedback.report_key == report_key, Feedback.email_hash == hashed)).first():
            outcome.duplicates += 1
            continue
        session.add(Feedback(email_hash=hashed, kind=finding.kind, status=finding.status,
                             reason=finding.reason, source=source, report_key=report_key))
        session.flush()
        if finding.kind in _SUPPRESS:
            suppress(session, finding.recipient, _SUPPRESS[finding.kind], note=f"{source}: {finding.reason}"[:500])
        outcome.stored += 1
    return outcome
