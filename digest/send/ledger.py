"""The delivery ledger: one row per (edition, subscriber), and every state change on it.

Each function is one short SQL statement so that any number of workers can run batches of
the same edition at once: claiming is atomic (SKIP LOCKED on PostgreSQL; SQLite serialises
writers), a row is only sent by the batch whose claim token it carries, and each outcome
is committed as it happens, so a killed worker loses at most the message in flight.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum, StrEnum

from sqlalchemy import and_, bindparam, exists, func, insert, literal, or_, select, update
from sqlmodel import Session

from digest.db import is_postgres
from digest.models import (
    Delivery, DeliveryStatus, Edition, EditionStatus, Subscription, SubscriptionStatus, utcnow,
)

D = Delivery.__table__
E = Edition.__table__
S = Subscription.__table__

#: States in which a row may still be sent.
OPEN_STATES = (DeliveryStatus.PENDING, DeliveryStatus.CLAIMED, DeliveryStatus.SENDING,
               DeliveryStatus.DEFERRED)


def create_rows(session: Session, edition_id: int, list_id: int) -> int:
    """One pending row per active subscriber of the list, set-wise; existing rows are kept.

    Returns how many rows are due now (the driver's rowcount for INSERT ... SELECT is not
    reliable across backends)."""
    already = select(D.c.subscriber_id).where(D.c.edition_id == edition_id)
    rows = select(
        literal(edition_id), S.c.subscriber_id, literal(DeliveryStatus.PENDING.value),
        literal(0), literal("all"), literal(utcnow(), D.c.created_at.type),
    ).where(S.c.list_id == list_id, S.c.status == SubscriptionStatus.ACTIVE,
            S.c.subscriber_id.not_in(already))
    statement = insert(D).from_select(
        ["edition_id", "subscriber_id", "status", "attempts", "variant_key", "created_at"], rows)
    session.execute(statement)
    return count_due(session, edition_id)


def assign_variants(session: Session, edition_id: int, groups: dict[str, list[int]],
                    chunk: int = 1000) -> None:
    """Give the edition's rows of these subscribers their variant key (rows start as "all")."""
    for key, subscriber_ids in groups.items():
        for start in range(0, len(subscriber_ids), chunk):
            session.execute(update(D).where(
                D.c.edition_id == edition_id,
                D.c.subscriber_id.in_(subscriber_ids[start:start + chunk])).values(variant_key=key))


def variant_keys(session: Session, edition_id: int) -> list[str]:
    return list(session.execute(select(D.c.variant_key).where(D.c.edition_id == edition_id)
                                .distinct().order_by(D.c.variant_key)).scalars())


def _due(edition_id: int, now: datetime):
    return and_(D.c.edition_id == edition_id, or_(
        D.c.status == DeliveryStatus.PENDING,
        and_(D.c.status == DeliveryStatus.DEFERRED, D.c.next_attempt_at <= now),
    ))


def count_due(session: Session, edition_id: int) -> int:
    return session.execute(select(func.count()).where(_due(edition_id, utcnow()))).scalar_one()


def claim(session: Session, edition_id: int, limit: int,
          lease_seconds: int) -> tuple[str, list[tuple[int, int, str]]]:
    """Take up to `limit` due rows for one batch:
    (claim token, [(delivery id, subscriber id, variant key)])."""
    now = utcnow()
    token = secrets.token_hex(8)
    candidates = select(D.c.id).where(_due(edition_id, now)).order_by(D.c.id).limit(limit)
    if is_postgres(session):
        candidates = candidates.with_for_update(skip_locked=True)
    statement = (
        update(D).where(D.c.id.in_(candidates.scalar_subquery()))
        .values(status=DeliveryStatus.CLAIMED, claim_token=token,
                lease_until=now + timedelta(seconds=lease_seconds))
        .returning(D.c.id, D.c.subscriber_id, D.c.variant_key)
    )
    rows = sorted(tuple(row) for row in session.execute(statement).all())
    session.commit()
    return token, rows


# Per message a batch writes the previous message's outcome and marks the next one in flight,
# in ONE transaction: a crash between the two can never happen, and a killed worker leaves
# at most the one in-flight row `sending` (the reconciler makes it `unknown`). The two
# statements are built once from these builders, with bound parameters.
def _begin(delivery_id):
    """claimed -> sending, if the row is still ours, the edition still sending and the
    subscriber still subscribed."""
    return update(D).where(
        D.c.id == delivery_id, D.c.claim_token == bindparam("token"),
        D.c.status == DeliveryStatus.CLAIMED,
        exists().where(E.c.id == D.c.edition_id, E.c.status == EditionStatus.SENDING),
        exists().where(S.c.subscriber_id == D.c.subscriber_id, S.c.list_id == bindparam("list_id"),
                       S.c.status == SubscriptionStatus.ACTIVE)
    ).values(status=DeliveryStatus.SENDING, attempts=D.c.attempts + 1)


def _finish(delivery_id):
    """The outcome of an attempt; only a row the batch still holds."""
    return update(D).where(D.c.id == delivery_id, D.c.claim_token == bindparam("token")).values(
        status=bindparam("outcome"), last_error=bindparam("error"),
        next_attempt_at=bindparam("next_attempt_at"), sent_at=bindparam("sent_at"),
        claim_token=None, lease_until=None)


@dataclass(frozen=True)
class Outcome:
    delivery_id: int
    status: DeliveryStatus
    error: str | None = None
    next_attempt_at: datetime | None = None

    def params(self) -> dict:
        return {"finished_id": self.delivery_id, "outcome": self.status.value, "error": self.error,
                "next_attempt_at": self.next_attempt_at,
                "sent_at": utcnow() if self.status == DeliveryStatus.SENT else None}


_NO_OUTCOME = {"finished_id": None, "outcome": None, "error": None, "next_attempt_at": None,
               "sent_at": None}


class Attempts:
    """A batch's per-message ledger writes. :meth:`record` keeps an outcome until the next
    :meth:`begin` (or :meth:`close`) writes it in the same transaction as that start:
    one commit per message. `session` is the batch's session for everything else."""

    def __init__(self, session: Session, token: str, list_id: int):
        self.session, self.token, self.list_id = session, token, list_id
        self._recorded: Outcome | None = None

    def record(self, outcome: Outcome) -> None:
        assert self._recorded is None, "an outcome is already waiting"
        self._recorded = outcome

    def begin(self, delivery_id: int) -> bool:
        """Write the recorded outcome, if any, and mark this row in flight if it may still
        be sent; both commit together. False means: do not send it (see :func:`why_not`)."""
        recorded, self._recorded = self._recorded, None
        return self._write(recorded.params() if recorded else _NO_OUTCOME, delivery_id)

    def close(self) -> None:
        """Write an outcome still waiting (the batch's last message)."""
        recorded, self._recorded = self._recorded, None
        if recorded is not None:
            self._write(recorded.params(), None)

    def _write(self, finished: dict, next_id: int | None) -> bool:
        raise NotImplementedError


class _SessionAttempts(Attempts):
    """Two statements on the session, one commit (SQLite: the embedded mode)."""

    _FINISH = _finish(bindparam("finished_id"))
    _BEGIN = _begin(bindparam("next_id"))

    def _write(self, finished: dict, next_id: int | None) -> bool:
        # The session's Core connection: skips most of the ORM's per-call work.
        connection = self.session.connection()
        if finished["finished_id"] is not None:
            connection.execute(self._FINISH, {**finished, "token": self.token})
        began = next_id is not None and connection.execute(
            self._BEGIN, {"next_id": next_id, "token": self.token, "list_id": self.list_id}).rowcount == 1
        self.session.commit()
        return began


def _compiled_step() -> tuple[str, dict]:
    """The begin with the finish as a data-modifying CTE: one statement, so one round trip
    and one atomic transaction in autocommit. The CTE runs whether or not the begin matches
    a row, so a refused start still records the outcome. Compiled once for psycopg."""
    from sqlalchemy.dialects.postgresql.psycopg import dialect

    compiled = _begin(bindparam("next_id")).add_cte(_finish(bindparam("finished_id")).cte("finished")) \
        .compile(dialect=dialect())
    return compiled.string, {key: value.value if isinstance(value, Enum) else value
                             for key, value in compiled.params.items()}


class _PostgresAttempts(Attempts):
    """One statement per message on the raw psycopg connection (autocommit, a server-side
    prepared statement from its first run): no ORM, no SQLAlchemy statement handling on
    the hot path."""

    _STEP, _CONSTANTS = _compiled_step()

    def __init__(self, session: Session, token: str, list_id: int):
        super().__init__(session, token, list_id)
        self._cursor = session.connection().connection.driver_connection.cursor()

    def _write(self, finished: dict, next_id: int | None) -> bool:
        self._cursor.execute(self._STEP, {**self._CONSTANTS, **finished, "next_id": next_id,
                                          "token": self.token, "list_id": self.list_id}, prepare=True)
        return self._cursor.rowcount == 1


@contextmanager
def attempts(session: Session, token: str, list_id: int) -> Iterator[Attempts]:
    """The per-message writer for a batch holding `token`.

    On PostgreSQL it runs on a connection of its own, in autocommit (each statement is its
    own transaction: the combined statement above, and the batch's occasional single-statement
    writes), with commits that do not wait for the WAL flush. A killed worker loses nothing
    by that (the server has the commit); only a crash of the database server can lose the
    last few milliseconds of outcomes. Set once per batch, it costs no round trip per message."""
    if not is_postgres(session):
        yield _SessionAttempts(session, token, list_id)
        return
    with session.get_bind().connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT")
        connection.exec_driver_sql("SET synchronous_commit = off")
        try:
            with Session(bind=connection, expire_on_commit=False) as batch_session:
                yield _PostgresAttempts(batch_session, token, list_id)
        finally:
            # The connection goes back to the pool: it must not keep the setting.
            connection.exec_driver_sql("RESET synchronous_commit")


class Refusal(StrEnum):
    """Why :meth:`Attempts.begin` refused a row."""

    TAKEN = "taken"                # another batch holds it now (our lease ran out)
    STOPPED = "stopped"            # the edition was paused or cancelled
    UNSUBSCRIBED = "unsubscribed"  # the subscriber left the list meanwhile


def why_not(session: Session, delivery_id: int, token: str) -> Refusal:
    row = session.execute(
        select(D.c.claim_token, D.c.status, E.c.status)
        .join(E, E.c.id == D.c.edition_id).where(D.c.id == delivery_id)).one()
    claim_token, status, edition_status = row
    if claim_token != token or status != DeliveryStatus.CLAIMED:
        return Refusal.TAKEN
    if edition_status != EditionStatus.SENDING:
        return Refusal.STOPPED
    return Refusal.UNSUBSCRIBED


def mark(session: Session, delivery_ids: list[int], status: DeliveryStatus, reason: str,
         token: str | None = None) -> None:
    """Settle rows that will not be attempted (unsubscribed, suppressed). With a token, only
    rows the batch still holds."""
    if delivery_ids:
        condition = D.c.id.in_(delivery_ids) & D.c.status.in_(OPEN_STATES)
        if token is not None:
            condition &= D.c.claim_token == token
        session.execute(update(D).where(condition)
                        .values(status=status, last_error=reason, claim_token=None, lease_until=None))
        session.commit()


def renew(session: Session, token: str, lease_seconds: int) -> None:
    """Extend a live batch's lease on every row it still holds."""
    session.execute(update(D).where(D.c.claim_token == token)
                    .values(lease_until=utcnow() + timedelta(seconds=lease_seconds)))
    session.commit()


def release(session: Session, token: str) -> None:
    """Give a batch's untried rows back (pause, server trouble): a later batch takes them."""
    session.execute(update(D).where(D.c.claim_token == token, D.c.status == DeliveryStatus.CLAIMED)
                    .values(status=DeliveryStatus.PENDING, claim_token=None, lease_until=None))
    session.commit()


def expire_leases(session: Session, edition_id: int | None = None) -> tuple[int, int]:
    """After a batch died: untried rows go back to pending; the in-flight one becomes unknown.

    Without an edition: every edition (a paused or cancelled one may hold dead claims too)."""
    now = utcnow()
    expired = D.c.lease_until < now
    if edition_id is not None:
        expired = and_(D.c.edition_id == edition_id, expired)
    back = session.execute(update(D).where(expired, D.c.status == DeliveryStatus.CLAIMED)
                           .values(status=DeliveryStatus.PENDING, claim_token=None, lease_until=None))
    lost = session.execute(update(D).where(expired, D.c.status == DeliveryStatus.SENDING)
                           .values(status=DeliveryStatus.UNKNOWN, claim_token=None, lease_until=None,
                                   last_error="worker lost while the message was in flight"))
    session.commit()
    return back.rowcount, lost.rowcount


def settle_open(session: Session, edition_id: int, status: DeliveryStatus, reason: str) -> int:
    """Every row not yet tried or waiting for a retry gets `status` (cancel). A row in flight
    is left to its batch, which records what really happened."""
    result = session.execute(
        update(D).where(D.c.edition_id == edition_id, D.c.status.in_(
            (DeliveryStatus.PENDING, DeliveryStatus.CLAIMED, DeliveryStatus.DEFERRED)))
        .values(status=status, last_error=reason, claim_token=None, lease_until=None,
                next_attempt_at=None))
    return result.rowcount


def reopen(session: Session, edition_id: int, states: tuple[DeliveryStatus, ...]) -> int:
    """Rows in `states` become pending again, due now (retry-failed). Never `sent`."""
    assert DeliveryStatus.SENT not in states
    result = session.execute(
        update(D).where(D.c.edition_id == edition_id, D.c.status.in_(states))
        .values(status=DeliveryStatus.PENDING, next_attempt_at=None, claim_token=None,
                lease_until=None))
    return result.rowcount


def sent_since(session: Session, edition_id: int, since: datetime) -> int:
    return session.execute(select(func.count()).where(
        D.c.edition_id == edition_id, D.c.status == DeliveryStatus.SENT,
        D.c.sent_at >= since)).scalar_one()


def counts(session: Session, edition_id: int) -> dict[str, int]:
    rows = session.execute(select(D.c.status, func.count()).where(D.c.edition_id == edition_id)
                           .group_by(D.c.status)).all()
    return {status: count for status, count in rows}


def finish_edition(session: Session, edition_id: int) -> bool:
    """Sending -> sent, once no row is left to try."""
    open_rows = exists().where(D.c.edition_id == edition_id, D.c.status.in_(OPEN_STATES))
    result = session.execute(
        update(E).where(E.c.id == edition_id, E.c.status == EditionStatus.SENDING, ~open_rows)
        .values(status=EditionStatus.SENT, sent_at=utcnow()))
    session.commit()
    return result.rowcount == 1
