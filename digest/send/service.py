"""Sending an edition: start once, then bounded batches that any worker may run.

These are plain functions over a session; the CLI runs them in-process and the Celery
tasks call the very same ones.
"""

from __future__ import annotations

import logging
import math
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache, partial

from sqlalchemy import func, update
from sqlmodel import Session, select

from digest import metrics
from digest.logs import event
from digest.mail.backends.base import MailBackend
from digest.mail.dkim import DKIMSigner
from digest.bounces.alerts import log_warnings
from digest.bounces.report import edition_reports
from digest.bounces.verp import envelope_sender
from digest.mail.message import MailTemplate, OutgoingMessage, message_id
from digest.models import (
    DeliveryStatus, DigestList, Edition, EditionItem, EditionStatus, EditionVariant, Subscriber,
    Subscription, SubscriptionStatus, Suppression, utcnow,
)
from digest.render.checks import check_edition, format_findings
from digest.render.digest import Rendered, render_edition, render_variant
from digest.render.variants import ALL, variant_key
from digest.send import lanes, ledger, problems, repeats, subject_test, waves, writing
from digest.send.ratelimit import limiter_for
from digest.settings import Settings
from digest.subscribers.links import personal_values, preview_values
from digest.subscribers.suppression import email_hash

log = logging.getLogger(__name__)


class SendError(Exception):
    """A send that cannot start or go on; the message says why and what to do."""


@dataclass
class BatchReport:
    outcomes: dict[str, int] = field(default_factory=dict)
    note: str | None = None  # why the batch stopped early, if it did
    outage: bool = False     # the relay could not be reached: try again after the retry delay
    recovered: bool = False  # the relay took mail again after a problem: queue the rest now

    def add(self, status: DeliveryStatus, n: int = 1) -> None:
        if n:
            self.outcomes[str(status)] = self.outcomes.get(str(status), 0) + n


def format_outcomes(outcomes: dict[str, int]) -> str:
    return ", ".join(f"{n} {status}" for status, n in sorted(outcomes.items())) or "nothing to send"


def _finish(session: Session, edition_id: int) -> bool:
    """Sending -> sent once no row is left to try (see ledger.finish_edition), logged, with a
    warning if the relay refused too many addresses (digest.bounces.alerts)."""
    if not ledger.finish_edition(session, edition_id):
        return False
    outcomes = ledger.counts(session, edition_id)
    event(log, "send_finished", "send of edition {edition} finished: {summary}", edition=edition_id,
          summary=format_outcomes(outcomes), **outcomes)
    log_warnings(edition_reports(session, [edition_id])[edition_id])
    return True


def start_send(session: Session, settings: Settings, edition_id: int, now: datetime | None = None) -> int:
    """Approved -> sending, exactly once however many callers race; returns the batch count
    for the rows due at `now` (a local-time edition's later waves come due later).

    The edition is rendered once and checked before anything changes; the status change,
    the ledger rows and the stored renderings (one per variant) then commit together, so a
    failure leaves the edition approved and nothing half-made.
    """
    edition = session.get(Edition, edition_id)
    if edition is None:
        raise SendError(f"no edition {edition_id}")
    shared = render_edition(session, settings, edition)
    if findings := check_edition(session, settings, edition,
                                   preview_values(settings, edition), shared):
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
    digest_list = session.get(DigestList, edition.list_id)
    ledger.create_rows(session, edition_id, edition.list_id)
    waves.set_due_times(session, edition, digest_list)
    regrouped = repeats.regroup(session, settings, edition, variant_groups(session, edition))
    ledger.assign_variants(session, edition_id, regrouped.groups)
    prepare_variants(session, settings, edition, shared)
    subject_test.split(session, settings, edition)
    rows = ledger.count_due(session, edition_id, now)
    session.commit()
    batches = batches_for(settings, rows)
    event(log, "send_started", "send of edition {edition} ({list}) started: {deliveries} deliveries "
          "due now, {batches} batch(es); {leaving_out} reader(s) without stories they had from "
          "another list, {repeats_over_cap} with a repeat because of the variant cap",
          edition=edition_id, list=digest_list.slug, deliveries=rows, batches=batches,
          leaving_out=regrouped.leaving_out, repeats_over_cap=regrouped.repeats_over_cap)
    return batches


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
                                     html=rendered.html, text=rendered.text,
                                     stories=list(rendered.stories))
        session.add(stored[key])
    session.flush()
    return stored


def send_batch(session: Session, settings: Settings, backend: MailBackend, edition_id: int,
               now: datetime | None = None) -> BatchReport:
    """Claim up to batch_size rows of the edition due at `now` (default: the clock) and send
    them over the backend's lanes (up to DIGEST_SMTP_CONNECTIONS connections at once).

    Each outcome is recorded as it happens. Rows this batch did not try are released for a
    later batch (paused, hourly limit, temporary failures in a row), or deferred with the
    error when the relay cannot be reached; the edition says why it is not moving."""
    report = BatchReport()
    # populate_existing: the status is changed by Core updates that the identity map misses.
    edition = session.get(Edition, edition_id, populate_existing=True)
    if edition is None or edition.status != EditionStatus.SENDING:
        return report
    token, rows = ledger.claim(session, edition_id, settings.batch_size, settings.delivery_lease_seconds, now)
    if not rows:
        _finish(session, edition_id)
        return report
    started = time.monotonic()
    templates = Templates(session, settings, edition)
    subscribers = {s.id: s for s in session.exec(
        select(Subscriber).where(Subscriber.id.in_([row[1] for row in rows]))).all()}
    suppressed = set(session.exec(select(Suppression.email_hash).where(
        Suppression.email_hash.in_([email_hash(s.email) for s in subscribers.values()]))).all())
    # A subscriber erased since the claim took their rows along: nothing to send.
    skipped = [did for did, sid, *_ in rows
               if sid not in subscribers or email_hash(subscribers[sid].email) in suppressed]
    ledger.mark(session, skipped, DeliveryStatus.SKIPPED, "address is suppressed", token)
    report.add(DeliveryStatus.SKIPPED, len(skipped))
    skipped_ids = set(skipped)
    if edition.subject_b and any(group is None for *_, group in rows):
        subject_test.decide(session, edition)  # the window has closed: the rest get the winner
    due_from = waves.due_from(session, [row[0] for row in rows])
    todo = deque(
        lanes.Row(did, attempts, partial(_message, settings, templates.get(key), edition, subscribers[sid],
                                         templates.subject(key, group)), due_from.get(did))
        for did, sid, key, attempts, group in rows if did not in skipped_ids)
    session.commit()  # no transaction left open on this connection while the batch runs
    with writing.writer(session, token, edition.list_id) as writer:
        run = lanes.Run(settings, edition.send_started_at, writer, limiter_for(settings), todo,
                        templates.digest_list.slug)
        with backend.lanes(settings.smtp_connections) as connections:
            lanes.run_lanes(run, connections,
                            renew=lambda: writer.renew(settings.delivery_lease_seconds),
                            renew_every=settings.delivery_lease_seconds / 3)
    for status, n in run.outcomes.items():
        report.add(DeliveryStatus(status), n)
    ledger.mark(session, run.skipped, DeliveryStatus.SKIPPED, "no longer subscribed", token)
    report.add(DeliveryStatus.SKIPPED, len(run.skipped))
    _settle_stop(session, settings, edition_id, token, run, report)
    ledger.release(session, token)
    _observe(edition_id, run.list_slug, report, time.monotonic() - started)
    _finish(session, edition_id)
    return report


def _observe(edition_id: int, slug: str, report: BatchReport, seconds: float) -> None:
    """The batch in the metrics (rows skipped before sending; lanes count the rest) and the log."""
    metrics.MESSAGES.labels(DeliveryStatus.SKIPPED.value, slug).inc(report.outcomes.get(DeliveryStatus.SKIPPED, 0))
    metrics.BATCH_DURATION.observe(seconds)
    counts = {"sent": 0, "deferred": 0, "failed": 0, "bounced": 0, **report.outcomes}
    event(log, "batch_finished", "edition {edition} batch: {summary} ({list}, {duration_seconds} s)",
          level=logging.WARNING if report.note else logging.INFO, edition=edition_id, list=slug,
          summary=format_outcomes(report.outcomes) + (f" ({report.note})" if report.note else ""),
          duration_seconds=round(seconds, 3), note=report.note, **counts)


def _settle_stop(session: Session, settings: Settings, edition_id: int, token: str,
                 run: lanes.Run, report: BatchReport) -> None:
    """Say why the batch stopped, where ops will see it, and park the rows it left."""
    stop = run.stop
    if stop is None or not (stop.outage or stop.pause):
        report.note = stop.note if stop else None
        if run.outcomes.get(DeliveryStatus.SENT):
            report.recovered = problems.clear(session, edition_id)
        return
    if stop.outage:
        report.note, report.outage = f"{problems.UNREACHABLE}: {stop.note}", True
        retry_at = utcnow() + timedelta(seconds=settings.retry_base_seconds)
        ledger.defer_claimed(session, token, report.note, retry_at)
        problems.note(session, edition_id, problems.UNREACHABLE, stop.note)
    else:
        report.note = f"{stop.pause}: {stop.note}"
        problems.note(session, edition_id, stop.pause, stop.note)
        session.execute(update(Edition.__table__).where(
            Edition.__table__.c.id == edition_id, Edition.__table__.c.status == EditionStatus.SENDING)
            .values(status=EditionStatus.PAUSED))
        session.commit()


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

    def subject(self, key: str, group: str | None) -> str:
        """The subject of a row of variant `key` in subject test group `group`."""
        return subject_test.subject_of(self.edition, self.get(key).rendered.subject, group)


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
             subscriber: Subscriber, subject: str) -> OutgoingMessage:
    personal = personal_values(settings, subscriber, edition.list_id, edition.id)
    return template.assemble(
        recipient=subscriber.email, recipient_name=subscriber.name,
        message_id=message_id(edition.id, subscriber.id, template.domain),
        personal=personal, unsubscribe_url=personal.unsubscribe_url,
        return_path=envelope_sender(settings, edition.id, subscriber.id), subject=subject)


def reconcile(session: Session, now: datetime | None = None) -> dict[int, int]:
    """Take back expired claims of every edition, settle finished sends, and say how many
    rows each sending edition has due at `now` (pending and its wave come, or deferred and
    due): {edition: rows}. Rows of a later wave are not counted: no batch spins on them."""
    ledger.expire_leases(session)
    # A message in flight at a cancel is left to its batch; if that batch recorded a
    # deferral (or its lease ran out with the row untried), the row would wait forever.
    for edition_id in session.exec(select(Edition.id).where(Edition.status == EditionStatus.CANCELLED)).all():
        ledger.settle_open(session, edition_id, DeliveryStatus.SKIPPED, "send cancelled", claimed=False)
    session.commit()
    sending = session.exec(select(Edition.id).where(Edition.status == EditionStatus.SENDING)).all()
    due = {}
    for edition_id in sending:
        if not _finish(session, edition_id):
            due[edition_id] = ledger.count_due(session, edition_id, now)
    return due


def batches_for(settings: Settings, rows: int) -> int:
    return math.ceil(rows / settings.batch_size)


def send_inline(session: Session, settings: Settings, backend: MailBackend, edition_id: int) -> BatchReport:
    """The embedded path: start the send and run its batches here until none is due."""
    start_send(session, settings, edition_id)
    return run_batches(session, settings, backend, edition_id)


def run_batches(session: Session, settings: Settings, backend: MailBackend, edition_id: int,
                now: datetime | None = None) -> BatchReport:
    """Batches one after another in this process until nothing is due at `now` or a batch
    stops early (paused, server trouble, hourly limit): what is left waits for resume or
    the reconciler (and a local-time send's later waves for their time)."""
    total = BatchReport()
    while ledger.count_due(session, edition_id, now):
        report = send_batch(session, settings, backend, edition_id, now)
        for status, n in report.outcomes.items():
            total.add(status, n)
        total.note = report.note
        if report.note or not report.outcomes:
            break
    _finish(session, edition_id)
    return total
