"""Sending an edition: start once, then bounded batches that any worker may run.

These are plain functions over a session; the CLI runs them in-process and the Celery
tasks call the very same ones.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache

from sqlalchemy import func, update
from sqlmodel import Session, select

from digest.mail.backends.base import MailBackend
from digest.mail.dkim import DKIMSigner
from digest.mail.errors import PermanentFailure, TemporaryFailure, UnknownOutcome
from digest.mail.message import MailTemplate, OutgoingMessage, message_id
from digest.models import (
    DeliveryStatus, DigestList, Edition, EditionItem, EditionStatus, EditionVariant, Subscriber,
    Subscription, SubscriptionStatus, Suppression, utcnow,
)
from digest.render.checks import check_edition, format_findings
from digest.render.digest import Rendered, personal_values, render_edition, render_variant
from digest.render.variants import ALL, variant_key
from digest.send import ledger
from digest.send.ratelimit import RateLimited, limiter_for
from digest.settings import Settings
from digest.subscribers.suppression import email_hash, suppress


class SendError(Exception):
    """A send that cannot start or go on; the message says why and what to do."""


@dataclass
class BatchReport:
    outcomes: dict[str, int] = field(default_factory=dict)
    note: str | None = None  # why the batch stopped early, if it did

    def add(self, status: DeliveryStatus, n: int = 1) -> None:
        if n:
            self.outcomes[str(status)] = self.outcomes.get(str(status), 0) + n


def format_outcomes(outcomes: dict[str, int]) -> str:
    return ", ".join(f"{n} {status}" for status, n in sorted(outcomes.items())) or "nothing to send"


def start_send(session: Session, settings: Settings, edition_id: int) -> int:
    """Approved -> sending, exactly once however many callers race; returns the batch count.

    The edition is rendered once and checked before anything changes; the status change,
    the ledger rows and the stored renderings (one per variant) then commit together, so a
    failure leaves the edition approved and nothing half-made.
    """
    edition = session.get(Edition, edition_id)
    if edition is None:
        raise SendError(f"no edition {edition_id}")
    shared = render_edition(session, settings, edition)
    if findings := check_edition(session, settings, edition, shared):
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
    rows = ledger.create_rows(session, edition_id, edition.list_id)
    ledger.assign_variants(session, edition_id, variant_groups(session, edition))
    prepare_variants(session, settings, edition, shared)
    session.commit()
    return batches_for(settings, rows)


def variant_groups(session: Session, edition: Edition) -> dict[str, list[int]]:
    """Subscribers who chose topics, grouped by the variant they get (everyone else: "all").

    A variant keeps only the chosen topics this edition has stories in; a choice that
    covers every section, or none of this edition's, gets the whole edition rather than
    an identical copy or an empty mail."""
    sections = set(session.exec(select(EditionItem.section).where(EditionItem.edition_id == edition.id)).all())
    chosen = session.exec(select(Subscription.subscriber_id, Subscription.topics).where(
        Subscription.list_id == edition.list_id, Subscription.status == SubscriptionStatus.ACTIVE,
        func.json_array_length(Subscription.topics) > 0)).all()
    groups: dict[str, list[int]] = defaultdict(list)
    for subscriber_id, topics in chosen:
        wanted = sections & {topic.lower() for topic in topics}
        if wanted and wanted != sections:
            groups[variant_key(wanted)].append(subscriber_id)
    return dict(groups)


def prepare_variants(session: Session, settings: Settings, edition: Edition,
                     shared: Rendered | None = None) -> dict[str, EditionVariant]:
    """Render and inline the edition once per variant its deliveries need ("all" always);
    every batch reuses the stored results. `shared` is the "all" rendering, if made already."""
    stored = {v.key: v for v in session.exec(
        select(EditionVariant).where(EditionVariant.edition_id == edition.id)).all()}
    for key in sorted({ALL, *ledger.variant_keys(session, edition.id)} - stored.keys()):
        rendered = shared if key == ALL and shared else render_variant(session, settings, edition, key)
        stored[key] = EditionVariant(edition_id=edition.id, key=key, subject=rendered.subject,
                                     html=rendered.html, text=rendered.text)
        session.add(stored[key])
    session.flush()
    return stored


def send_batch(session: Session, settings: Settings, backend: MailBackend, edition_id: int) -> BatchReport:
    """Claim up to batch_size due rows of the edition and send them over one connection.

    Each outcome is recorded as it happens; the rows this batch did not try (paused, server
    trouble, hourly limit) are released for a later batch."""
    report = BatchReport()
    # populate_existing: the status is changed by Core updates that the identity map misses.
    edition = session.get(Edition, edition_id, populate_existing=True)
    if edition is None or edition.status != EditionStatus.SENDING:
        return report
    token, rows = ledger.claim(session, edition_id, settings.batch_size, settings.delivery_lease_seconds)
    if not rows:
        ledger.finish_edition(session, edition_id)
        return report
    subscribers = {s.id: s for s in session.exec(
        select(Subscriber).where(Subscriber.id.in_([sid for _, sid, _ in rows]))).all()}
    suppressed = set(session.exec(select(Suppression.email_hash).where(
        Suppression.email_hash.in_([email_hash(s.email) for s in subscribers.values()]))).all())
    skipped = [did for did, sid, _ in rows if email_hash(subscribers[sid].email) in suppressed]
    ledger.mark(session, skipped, DeliveryStatus.SKIPPED, "address is suppressed", token)
    report.add(DeliveryStatus.SKIPPED, len(skipped))
    skipped_ids = set(skipped)
    todo = [(did, subscribers[sid], key) for did, sid, key in rows if did not in skipped_ids]
    session.commit()  # no transaction left open on this connection while the batch runs
    with ledger.attempts(session, token, edition.list_id) as attempts:
        _send_rows(attempts, settings, backend, edition, todo, report)
    ledger.release(session, token)
    ledger.finish_edition(session, edition_id)
    return report


def _send_rows(attempts: ledger.Attempts, settings: Settings, backend: MailBackend, edition: Edition,
               todo: list[tuple[int, Subscriber, str]], report: BatchReport) -> None:
    session, token = attempts.session, attempts.token
    templates = Templates(session, settings, edition)
    limiter = limiter_for(settings)
    failures_in_a_row = 0
    renew_every = settings.delivery_lease_seconds / 3
    renew_at = time.monotonic() + renew_every
    with backend:
        for delivery_id, subscriber, key in todo:
            if time.monotonic() > renew_at:
                ledger.renew(session, token, settings.delivery_lease_seconds)
                renew_at = time.monotonic() + renew_every
            try:
                limiter.acquire()
            except RateLimited as limited:
                report.note = str(limited)
                break
            # Writes the previous row's outcome too: one commit per message.
            if not attempts.begin(delivery_id):
                refusal = ledger.why_not(session, delivery_id, token)
                if refusal == ledger.Refusal.STOPPED:
                    break  # paused or cancelled: untried rows are released by the caller
                if refusal == ledger.Refusal.UNSUBSCRIBED:
                    ledger.mark(session, [delivery_id], DeliveryStatus.SKIPPED, "no longer subscribed", token)
                    report.add(DeliveryStatus.SKIPPED)
                continue
            message = _message(settings, templates.get(key), edition, subscriber)
            outcome = _deliver(session, settings, backend, edition, delivery_id, message)
            attempts.record(outcome)
            report.add(outcome.status)
            if outcome.status in (DeliveryStatus.DEFERRED, DeliveryStatus.EXPIRED):
                failures_in_a_row += 1
                if failures_in_a_row >= settings.smtp_max_consecutive_failures:
                    report.note = f"stopped after {failures_in_a_row} temporary failures in a row"
                    break
                # The server asked us to slow down (or is gone): back off before the next one.
                time.sleep(settings.smtp_backoff_seconds * 2 ** (failures_in_a_row - 1))
            else:
                failures_in_a_row = 0
    attempts.close()


class Templates:
    """The batch's MIME templates, built once per variant key from the stored rendering."""

    def __init__(self, session: Session, settings: Settings, edition: Edition):
        self.session, self.settings, self.edition = session, settings, edition
        self.digest_list = session.get(DigestList, edition.list_id)
        self._built: dict[str, MailTemplate] = {}

    def get(self, key: str) -> MailTemplate:
        if key not in self._built:
            variant = self.session.exec(select(EditionVariant).where(
                EditionVariant.edition_id == self.edition.id, EditionVariant.key == key)).one()
            self._built[key] = mail_template(self.settings, self.digest_list, variant)
        return self._built[key]


def mail_template(settings: Settings, digest_list: DigestList, variant: EditionVariant) -> MailTemplate:
    return MailTemplate.build(
        rendered=Rendered(variant.subject, variant.html, variant.text),
        from_email=settings.from_email, list_name=digest_list.name, list_slug=digest_list.slug,
        key=f"{variant.edition_id}:{variant.key}",
        unsubscribe_mailto=settings.list_unsubscribe_mailto, feedback_id=settings.feedback_id,
        signer=dkim_signer(settings))


def dkim_signer(settings: Settings) -> DKIMSigner | None:
    if not settings.dkim_key_path:
        return None
    return _load_signer(settings.dkim_key_path, settings.dkim_selector, settings.dkim_domain)


@lru_cache(maxsize=4)
def _load_signer(path, selector: str, domain: str) -> DKIMSigner:
    return DKIMSigner.from_file(path, selector=selector, domain=domain)


def _message(settings: Settings, template: MailTemplate, edition: Edition,
             subscriber: Subscriber) -> OutgoingMessage:
    personal = personal_values(settings, subscriber, edition.list_id)
    return template.assemble(
        recipient=subscriber.email, recipient_name=subscriber.name,
        message_id=message_id(edition.id, subscriber.id, template.domain),
        personal=personal, unsubscribe_url=personal.unsubscribe_url)


def _deliver(session: Session, settings: Settings, backend: MailBackend, edition: Edition,
             delivery_id: int, message: OutgoingMessage) -> ledger.Outcome:
    """Send one message; its outcome, for the ledger to write with the next row's start."""
    try:
        backend.send(message)
    except TemporaryFailure as failure:
        status, retry_at = _retry_policy(session, settings, edition, delivery_id)
        return ledger.Outcome(delivery_id, status, failure.reason, retry_at)
    except PermanentFailure as failure:
        suppress(session, message.recipient, "bounce")
        return ledger.Outcome(delivery_id, DeliveryStatus.BOUNCED, failure.reason)
    except UnknownOutcome as failure:
        return ledger.Outcome(delivery_id, DeliveryStatus.UNKNOWN, failure.reason)
    return ledger.Outcome(delivery_id, DeliveryStatus.SENT)


def _retry_policy(session: Session, settings: Settings, edition: Edition,
                  delivery_id: int) -> tuple[DeliveryStatus, datetime | None]:
    """Deferred with exponential backoff (base doubling per attempt, capped at an hour) until
    the retry window since the send started is over; then expired."""
    now = utcnow()
    if now - edition.send_started_at > timedelta(hours=settings.retry_window_hours):
        return DeliveryStatus.EXPIRED, None
    attempts = session.execute(select(ledger.D.c.attempts).where(ledger.D.c.id == delivery_id)).scalar_one()
    delay = min(settings.retry_base_seconds * 2 ** max(attempts - 1, 0), 3600)
    return DeliveryStatus.DEFERRED, now + timedelta(seconds=delay)


def reconcile(session: Session) -> dict[int, int]:
    """Take back expired claims of every edition, settle finished sends, and say how many
    rows each sending edition has due now (pending, or deferred and due): {edition: rows}."""
    ledger.expire_leases(session)
    sending = session.exec(select(Edition.id).where(Edition.status == EditionStatus.SENDING)).all()
    due = {}
    for edition_id in sending:
        if not ledger.finish_edition(session, edition_id):
            due[edition_id] = ledger.count_due(session, edition_id)
    return due


def batches_for(settings: Settings, rows: int) -> int:
    return math.ceil(rows / settings.batch_size)


def send_inline(session: Session, settings: Settings, backend: MailBackend, edition_id: int) -> BatchReport:
    """The embedded path: start the send and run its batches here until none is due."""
    start_send(session, settings, edition_id)
    return run_batches(session, settings, backend, edition_id)


def run_batches(session: Session, settings: Settings, backend: MailBackend, edition_id: int) -> BatchReport:
    """Batches one after another in this process until nothing is due or a batch stops early
    (paused, server trouble, hourly limit): what is left waits for resume or the reconciler."""
    total = BatchReport()
    while ledger.count_due(session, edition_id):
        report = send_batch(session, settings, backend, edition_id)
        for status, n in report.outcomes.items():
            total.add(status, n)
        total.note = report.note
        if report.note or not report.outcomes:
            break
    ledger.finish_edition(session, edition_id)
    return total
