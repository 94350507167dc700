"""Sending an edition: start once, then bounded batches that any worker may run.

These are plain functions over a session; the CLI runs them in-process and the Celery
tasks call the very same ones.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import update
from sqlmodel import Session, select

from digest.mail.backends.base import MailBackend
from digest.mail.errors import PermanentFailure, TemporaryFailure, UnknownOutcome
from digest.mail.message import MailTemplate, message_id
from digest.models import (
    DeliveryStatus, DigestList, Edition, EditionStatus, EditionVariant, Subscriber, Suppression,
    utcnow,
)
from digest.render.checks import check_edition, format_findings
from digest.render.digest import Rendered, personal_values, render_edition
from digest.send import ledger
from digest.settings import Settings
from digest.subscribers.suppression import email_hash, suppress


class SendError(Exception):
    """A send that cannot start or go on; the message says why and what to do."""


@dataclass
class BatchReport:
    outcomes: dict[str, int] = field(default_factory=dict)

    def add(self, status: DeliveryStatus, n: int = 1) -> None:
        if n:
            self.outcomes[str(status)] = self.outcomes.get(str(status), 0) + n


def format_outcomes(outcomes: dict[str, int]) -> str:
    return ", ".join(f"{n} {status}" for status, n in sorted(outcomes.items())) or "nothing to send"


def start_send(session: Session, settings: Settings, edition_id: int) -> int:
    """Approved -> sending, exactly once however many callers race; returns the batch count.

    The status change, the rendering and the ledger rows commit together, so a failure
    leaves the edition approved and nothing half-made.
    """
    edition = session.get(Edition, edition_id)
    if edition is None:
        raise SendError(f"no edition {edition_id}")
    if findings := check_edition(session, settings, edition):
        raise SendError(format_findings(edition_id, findings))
    started = session.execute(
        update(Edition.__table__)
        .where(Edition.__table__.c.id == edition_id,
               Edition.__table__.c.status == EditionStatus.APPROVED)
        .values(status=EditionStatus.SENDING, send_started_at=utcnow())
    ).rowcount
    if not started:
        session.rollback()
        session.refresh(edition)
        if edition.status in (EditionStatus.SENDING, EditionStatus.PAUSED):
            raise SendError(f"edition {edition_id} is already sending")
        if edition.status == EditionStatus.DRAFT:
            raise SendError(f"edition {edition_id} is a draft: approve it first")
        raise SendError(f"edition {edition_id} is {edition.status} and cannot be sent")
    session.refresh(edition)
    prepare_variants(session, settings, edition)
    rows = ledger.create_rows(session, edition_id, edition.list_id)
    session.commit()
    return math.ceil(rows / settings.batch_size)


def prepare_variants(session: Session, settings: Settings, edition: Edition) -> EditionVariant:
    """Render and inline the edition once; every batch reuses the stored result."""
    variant = session.exec(select(EditionVariant).where(
        EditionVariant.edition_id == edition.id, EditionVariant.key == "all")).one_or_none()
    if variant is None:
        rendered = render_edition(session, settings, edition)
        variant = EditionVariant(edition_id=edition.id, key="all", subject=rendered.subject,
                                 html=rendered.html, text=rendered.text)
        session.add(variant)
        session.flush()
    return variant


def send_batch(session: Session, settings: Settings, backend: MailBackend, edition_id: int) -> BatchReport:
    """Claim up to batch_size due rows of the edition and send them over one connection."""
    report = BatchReport()
    # populate_existing: the status is changed by Core updates that the identity map misses.
    edition = session.get(Edition, edition_id, populate_existing=True)
    if edition is None or edition.status != EditionStatus.SENDING:
        return report
    token, rows = ledger.claim(session, edition_id, settings.batch_size, settings.delivery_lease_seconds)
    if not rows:
        ledger.finish_edition(session, edition_id)
        return report
    digest_list = session.get(DigestList, edition.list_id)
    variant = session.exec(select(EditionVariant).where(
        EditionVariant.edition_id == edition_id, EditionVariant.key == "all")).one()
    template = MailTemplate.build(
        rendered=_as_rendered(variant), from_email=settings.from_email,
        list_name=digest_list.name, list_slug=digest_list.slug, key=f"{edition_id}:all")
    subscribers = {s.id: s for s in session.exec(
        select(Subscriber).where(Subscriber.id.in_([sid for _, sid in rows]))).all()}
    suppressed = set(session.exec(select(Suppression.email_hash).where(
        Suppression.email_hash.in_([email_hash(s.email) for s in subscribers.values()]))).all())
    skipped = [did for did, sid in rows if email_hash(subscribers[sid].email) in suppressed]
    ledger.mark(session, skipped, DeliveryStatus.SKIPPED, "address is suppressed")
    report.add(DeliveryStatus.SKIPPED, len(skipped))
    skipped_ids = set(skipped)
    todo = [(did, subscribers[sid]) for did, sid in rows if did not in skipped_ids]
    with backend:
        for delivery_id, subscriber in todo:
            if not ledger.begin_attempt(session, delivery_id, token, edition.list_id):
                session.refresh(edition)
                if edition.status != EditionStatus.SENDING:
                    break  # paused or cancelled: untried rows are released below
                ledger.mark(session, [delivery_id], DeliveryStatus.SKIPPED, "no longer subscribed")
                report.add(DeliveryStatus.SKIPPED)
                continue
            status = _deliver(session, settings, backend, template, edition, delivery_id,
                              token, subscriber)
            report.add(status)
            if status == DeliveryStatus.DEFERRED and backend_is_down(backend):
                break  # the server is unreachable: leave the rest for a later batch
    ledger.release(session, token)
    ledger.finish_edition(session, edition_id)
    return report


def backend_is_down(backend: MailBackend) -> bool:
    return getattr(backend, "connection", True) is None


def _deliver(session: Session, settings: Settings, backend: MailBackend, template: MailTemplate,
             edition: Edition, delivery_id: int, token: str, subscriber: Subscriber) -> DeliveryStatus:
    personal = personal_values(settings, subscriber, edition.list_id)
    message = template.assemble(
        recipient=subscriber.email, recipient_name=subscriber.name,
        message_id=message_id(edition.id, subscriber.id, template.domain),
        personal=personal, unsubscribe_url=personal.unsubscribe_url)
    try:
        backend.send(message)
    except TemporaryFailure as failure:
        now = utcnow()
        if now - edition.send_started_at > timedelta(hours=settings.retry_window_hours):
            status, retry_at = DeliveryStatus.EXPIRED, None
        else:
            attempts = _attempts(session, delivery_id)
            status, retry_at = DeliveryStatus.DEFERRED, now + timedelta(seconds=min(60 * 2 ** attempts, 3600))
        ledger.finish_attempt(session, delivery_id, token, status, error=failure.reason,
                              next_attempt_at=retry_at)
        return status
    except PermanentFailure as failure:
        suppress(session, subscriber.email, "bounce")
        ledger.finish_attempt(session, delivery_id, token, DeliveryStatus.BOUNCED, error=failure.reason)
        return DeliveryStatus.BOUNCED
    except UnknownOutcome as failure:
        ledger.finish_attempt(session, delivery_id, token, DeliveryStatus.UNKNOWN, error=failure.reason)
        return DeliveryStatus.UNKNOWN
    ledger.finish_attempt(session, delivery_id, token, DeliveryStatus.SENT)
    return DeliveryStatus.SENT


def _attempts(session: Session, delivery_id: int) -> int:
    return session.execute(select(ledger.D.c.attempts).where(ledger.D.c.id == delivery_id)).scalar_one()


def _as_rendered(variant: EditionVariant) -> Rendered:
    return Rendered(variant.subject, variant.html, variant.text)


def reconcile(session: Session, edition_id: int) -> int:
    """Take back expired claims and settle the edition; returns how many rows are due now."""
    ledger.expire_leases(session, edition_id)
    if ledger.finish_edition(session, edition_id):
        return 0
    return ledger.count_due(session, edition_id)


def send_inline(session: Session, settings: Settings, backend: MailBackend, edition_id: int) -> BatchReport:
    """The embedded path: start the send and run its batches here until none is due."""
    start_send(session, settings, edition_id)
    total = BatchReport()
    while ledger.count_due(session, edition_id):
        for status, n in send_batch(session, settings, backend, edition_id).outcomes.items():
            total.add(status, n)
        if session.get(Edition, edition_id, populate_existing=True).status != EditionStatus.SENDING:
            break
    ledger.finish_edition(session, edition_id)
    return total
