"""Importing subscribers from CSV and exporting them, set-wise so 100,000 rows take seconds.

An import validates every row in Python first, then talks to the database in chunks of
1,000 (look up what exists, INSERT ... ON CONFLICT DO NOTHING what does not, UPDATE what
changes) inside one transaction: a database error leaves nothing half-imported, while
bad rows are only reported, by line number, and the rest goes in.

Imported subscriptions are active at once: whoever imports vouches for the consent. An
address that is suppressed, or that unsubscribed from the list earlier, is never brought
back by an import.

Every CSV written here is opened in spreadsheets, so no cell may start a formula
(:func:`inert_cell`); the import undoes that (:func:`restored_cell`), so an export imports
back unchanged.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TextIO

from sqlalchemy import Integer, String, bindparam, update
from sqlmodel import Session, select

from digest.models import Subscriber, Subscription, SubscriptionStatus, UTCDateTime, utcnow
from digest.subscribers.addresses import BadAddress, clean_name, normalise_email
from digest.subscribers.signup import list_by_slug
from digest.subscribers.bulk import among, json_rows, upsert
from digest.subscribers.suppression import email_hash, suppressed_among
from digest.zones import check_zone

CHUNK = 1000
#: How several topics share the CSV's one `topics` column.
TOPIC_SEPARATOR = ";"
EXPORT_COLUMNS = ["email", "name", "status", "topics", "timezone", "created_at", "confirmed_at",
                  "unsubscribed_at"]

Progress = Callable[[int], None]

#: What makes a spreadsheet read a cell as a formula (OWASP, "CSV Injection"). Addresses can
#: start with = + - (RFC 5322 allows them in the local part), names and topics with any.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def inert_cell(value: str) -> str:
    """`value` with a quote in front if it would start a formula: spreadsheets then show it as
    text. A value that already starts with quotes before such a character gets one more, so
    :func:`restored_cell` gives back exactly what was written."""
    return "'" + value if value.lstrip("'").startswith(FORMULA_STARTS) else value


def restored_cell(value: str) -> str:
    """The value :func:`inert_cell` was given."""
    return value[1:] if value.startswith("'") and value.lstrip("'").startswith(FORMULA_STARTS) else value


def _csv_writer(out: TextIO) -> Callable[[Iterable], None]:
    """`writerow` for a CSV made safe to open: formulas made inert and every cell quoted, so a
    separator inside a cell (a ";" where spreadsheets split on it) cannot start a new one."""
    writer = csv.writer(out, quoting=csv.QUOTE_ALL)
    return lambda row: writer.writerow([inert_cell(v) if isinstance(v, str) else v for v in row])


class ImportFileError(ValueError):
    """The file as a whole cannot be imported (no header, no email column)."""


@dataclass(frozen=True)
class RowResult:
    line: int
    email: str
    outcome: str        # "added", "updated" or "skipped"
    reason: str = ""


@dataclass
class ImportReport:
    rows: list[RowResult] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        counts = {"added": 0, "updated": 0, "skipped": 0}
        for row in self.rows:
            counts[row.outcome] += 1
        return counts


@dataclass
class _Row:
    line: int
    email: str
    name: str | None
    topics: list[str]
    timezone: str | None = None  # None: keep what the subscriber has
    note: str = ""


def import_csv(session: Session, list_slug: str, stream: TextIO, *,
               progress: Progress | None = None) -> ImportReport:
    """Import the CSV (header row with an ``email`` column; ``name``, ``topics`` and
    ``timezone``, an IANA name, optional) into the list. Commits once at the end; rolls back on a database error.
    `progress(n)` is called as every n rows are done (validation, then each chunk)."""
    digest_list = list_by_slug(session, list_slug)
    report = ImportReport()
    rows = _read(stream, digest_list.sections, report)
    if progress:
        progress(len(report.rows))
    suppressed = suppressed_among(session, [email_hash(r.email) for r in rows])
    todo = []
    for row in rows:
        if email_hash(row.email) in suppressed:
            report.rows.append(RowResult(row.line, row.email, "skipped", "suppressed"))
        else:
            todo.append(row)
    if progress:
        progress(len(rows) - len(todo))
    try:
        for start in range(0, len(todo), CHUNK):
            chunk = todo[start:start + CHUNK]
            report.rows.extend(_import_chunk(session, digest_list.id, chunk))
            if progress:
                progress(len(chunk))
        session.commit()
    except BaseException:
        session.rollback()
        raise
    report.rows.sort(key=lambda r: r.line)
    return report


def _read(stream: TextIO, sections: list[str], report: ImportReport) -> list[_Row]:
    reader = csv.DictReader(stream)
    columns = {(name or "").strip().lower(): name for name in reader.fieldnames or []}
    if "email" not in columns:
        raise ImportFileError("the first line must be a header naming an 'email' column")
    seen: dict[str, int] = {}
    rows = []

    def cell(record: dict, column: str) -> str:
        return restored_cell(record.get(columns.get(column, ""), "") or "")

    for record in reader:
        line = reader.line_num
        raw = cell(record, "email").strip()
        try:
            address = normalise_email(raw)
        except BadAddress as exc:
            report.rows.append(RowResult(line, raw, "skipped", f"bad address: {exc}"))
            continue
        if address in seen:
            report.rows.append(RowResult(line, address, "skipped", f"duplicate of line {seen[address]}"))
            continue
        zone = cell(record, "timezone").strip() or None
        try:
            zone = zone and check_zone(zone)
        except ValueError as exc:
            report.rows.append(RowResult(line, address, "skipped", f"bad time zone: {exc}"))
            continue
        seen[address] = line
        wanted = [t.strip() for t in cell(record, "topics").split(TOPIC_SEPARATOR) if t.strip()]
        unknown = [t for t in wanted if t not in sections]
        rows.append(_Row(line, address, clean_name(cell(record, "name")),
                         [s for s in sections if s in wanted], zone,
                         f"unknown topics ignored: {', '.join(unknown)}" if unknown else ""))
    return rows


def _import_chunk(session: Session, list_id: int, chunk: list[_Row]) -> list[RowResult]:
    now = utcnow()
    known = _subscribers(session, [r.email for r in chunk])
    new = [r for r in chunk if r.email not in known]
    if new:
        table = Subscriber.__table__
        rows = json_rows(session, [{"email": r.email, "name": r.name, "timezone": r.timezone} for r in new],
                         {"email": "text", "name": "text", "timezone": "text"}, now=(now, UTCDateTime()))
        inserted = session.execute(
            upsert(session)(table).from_select(["email", "name", "timezone", "created_at"], rows)
            .on_conflict_do_nothing(index_elements=["email"])
            .returning(table.c.id, table.c.email, table.c.name, table.c.timezone)).all()
        known.update({email: (sid, name, zone) for sid, email, name, zone in inserted})
        if len(inserted) < len(new):    # another writer added some meanwhile
            known.update(_subscribers(session, [r.email for r in new if r.email not in known]))
    renamed = [{"sid": known[r.email][0], "new_name": r.name or known[r.email][1],
                "new_zone": r.timezone or known[r.email][2]} for r in chunk
               if (r.name and r.name != known[r.email][1]) or (r.timezone and r.timezone != known[r.email][2])]
    if renamed:
        table = Subscriber.__table__
        session.execute(update(table).where(table.c.id == bindparam("sid"))
                        .values(name=bindparam("new_name"), timezone=bindparam("new_zone")), renamed)
    renamed_ids = {r["sid"] for r in renamed}
    ids = [known[r.email][0] for r in chunk]
    existing = {sid: (status, topics) for sid, status, topics in session.execute(
        select(Subscription.subscriber_id, Subscription.status, Subscription.topics)
        .where(Subscription.list_id == list_id, among(session, Subscription.subscriber_id, ids))).all()}
    results, inserts, updates = [], [], []
    for row in chunk:
        sid = known[row.email][0]
        if sid not in existing:
            inserts.append({"subscriber_id": sid, "topics": row.topics})
            results.append(RowResult(row.line, row.email, "added", row.note))
            continue
        status, topics = existing[sid]
        if status == SubscriptionStatus.UNSUBSCRIBED:
            results.append(RowResult(row.line, row.email, "skipped", "unsubscribed from this list earlier"))
        elif status == SubscriptionStatus.PENDING or (row.topics and row.topics != topics):
            updates.append({"sid": sid, "new_topics": row.topics or topics})
            results.append(RowResult(row.line, row.email, "updated", row.note))
        elif sid in renamed_ids:
            results.append(RowResult(row.line, row.email, "updated", row.note or "name or time zone changed"))
        else:
            results.append(RowResult(row.line, row.email, "skipped", "already subscribed"))
    if inserts:
        table = Subscription.__table__
        rows = json_rows(session, inserts, {"subscriber_id": "integer", "topics": "json"},
                         list_id=(list_id, Integer()), status=(SubscriptionStatus.ACTIVE.value, String()),
                         created_at=(now, UTCDateTime()), confirmed_at=(now, UTCDateTime()),
                         confirmations_sent=(0, Integer()))
        session.execute(upsert(session)(table).from_select(
            ["subscriber_id", "topics", "list_id", "status", "created_at", "confirmed_at",
             "confirmations_sent"], rows)
            .on_conflict_do_nothing(index_elements=["subscriber_id", "list_id"]))
    if updates:
        table = Subscription.__table__
        session.execute(update(table).where(table.c.subscriber_id == bindparam("sid"),
                                            table.c.list_id == list_id)
                        .values(status=SubscriptionStatus.ACTIVE, topics=bindparam("new_topics"),
                                confirmed_at=now), updates)
    return results


def _subscribers(session: Session, emails: list[str]) -> dict[str, tuple[int, str | None, str | None]]:
    return {email: (sid, name, zone) for sid, email, name, zone in session.execute(
        select(Subscriber.id, Subscriber.email, Subscriber.name, Subscriber.timezone)
        .where(among(session, Subscriber.email, emails))).all()}


def export_csv(session: Session, list_slug: str, out: TextIO) -> int:
    """Write the list's subscribers (every status) as CSV; returns how many rows."""
    digest_list = list_by_slug(session, list_slug)
    write = _csv_writer(out)
    write(EXPORT_COLUMNS)
    rows = session.execute(
        select(Subscriber.email, Subscriber.name, Subscription.status, Subscription.topics,
               Subscriber.timezone, Subscription.created_at, Subscription.confirmed_at, Subscription.unsubscribed_at)
        .join(Subscription, Subscription.subscriber_id == Subscriber.id)
        .where(Subscription.list_id == digest_list.id).order_by(Subscriber.email)
        .execution_options(yield_per=CHUNK))
    count = 0
    for email, name, status, topics, zone, created, confirmed, unsubscribed in rows:
        write([email, name or "", status, TOPIC_SEPARATOR.join(topics or []), zone or "",
               *(_iso(v) for v in (created, confirmed, unsubscribed))])
        count += 1
    return count


def _iso(value) -> str:
    return value.isoformat() if value else ""


def write_report(rows: Iterable[RowResult], out: TextIO) -> None:
    """The per-row report as CSV: line, email, outcome, reason."""
    write = _csv_writer(out)
    write(["line", "email", "outcome", "reason"])
    for row in rows:
        write([row.line, row.email, row.outcome, row.reason])
