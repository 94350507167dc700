"""Writing a batch's progress through the ledger, message by message.

Per message a batch's lane writes the previous message's outcome and marks the next one in
flight, in ONE transaction: a crash between the two can never happen, and a killed worker
leaves at most one row `sending` per open connection (the reconciler makes it `unknown`).
The commit is durable (no synchronous_commit=off): a database crash must not turn a row
whose data went out back into one that is sent again. Concurrent lanes share the cost:
their steps are written together, one transaction and one WAL flush for all of them.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import bindparam, case, exists, select, update
from sqlmodel import Session

from digest.models import DeliveryStatus, EditionStatus, SubscriptionStatus, utcnow
from digest.send.ledger import D, E, S


def _begin():
    """claimed -> sending for the rows still ours, whose edition is still sending and
    whose subscriber is still subscribed."""
    return update(D).where(
        D.c.id.in_(bindparam("ids", expanding=True)), D.c.claim_token == bindparam("token"),
        D.c.status == DeliveryStatus.CLAIMED,
        exists().where(E.c.id == D.c.edition_id, E.c.status == EditionStatus.SENDING),
        exists().where(S.c.subscriber_id == D.c.subscriber_id, S.c.list_id == bindparam("list_id"),
                       S.c.status == SubscriptionStatus.ACTIVE)
    ).values(status=DeliveryStatus.SENDING, attempts=D.c.attempts + 1).returning(D.c.id)


def _finish():
    """The outcome of an attempt; only a row the batch still holds. A row refused at its
    envelope never began, and its attempt is counted here (the backoff grows with it)."""
    return update(D).where(D.c.id == bindparam("finished_id"), D.c.claim_token == bindparam("token")).values(
        status=bindparam("outcome"), last_error=bindparam("error"),
        attempts=case((D.c.status == DeliveryStatus.CLAIMED, D.c.attempts + 1), else_=D.c.attempts),
        next_attempt_at=bindparam("next_attempt_at"), sent_at=bindparam("sent_at"),
        outcome_at=bindparam("outcome_at"), claim_token=None, lease_until=None)


@dataclass(frozen=True)
class Outcome:
    delivery_id: int
    status: DeliveryStatus
    error: str | None = None
    next_attempt_at: datetime | None = None
    suppress: str | None = None  # an address to suppress with it ("bounce"), atomically

    def params(self, token: str) -> dict:
        now = utcnow()
        return {"finished_id": self.delivery_id, "outcome": self.status.value, "error": self.error,
                "next_attempt_at": self.next_attempt_at, "token": token, "outcome_at": now,
                "sent_at": now if self.status == DeliveryStatus.SENT else None}


class _Step:
    __slots__ = ("outcomes", "begin", "renew", "began", "refusal", "error", "done", "lead")

    def __init__(self, outcomes: list[Outcome], begin: int | None, renew: float | None = None):
        self.outcomes, self.begin, self.renew = outcomes, begin, renew
        self.began, self.refusal, self.error = False, None, None
        self.done = threading.Event()  # written, or handed the writing of the next group
        self.lead = False


class Writer:
    """A batch's per-message ledger writes, shared by its lanes (threads).

    :meth:`step` writes outcomes and marks the next row in flight in one transaction. A
    lane that finds nobody writing writes its step at once. Steps that arrive meanwhile
    wait on their own event; the writer then hands the pen to the first of them, which
    writes them all together (one commit for many lanes) and so on. Nobody queues at a
    lock: each waiting lane is woken once, with its answer or with the pen."""

    _FINISH, _BEGIN = _finish(), _begin()

    def __init__(self, session: Session, token: str, list_id: int):
        self.session, self.token, self.list_id = session, token, list_id
        self._lock = threading.Lock()
        self._waiting: list[_Step] = []
        self._writing = False

    def renew(self, lease_seconds: float) -> None:
        """Extend the batch's lease, through the writer: a second connection updating the
        same rows at the same time could deadlock with it."""
        self._submit(_Step([], None, renew=lease_seconds))

    def step(self, outcomes: list[Outcome], begin: int | None) -> tuple[bool, Refusal | None]:
        """(began, why not): the row `begin` may go out when began is True."""
        step = self._submit(_Step(outcomes, begin))
        return step.began, step.refusal

    def _submit(self, step: _Step) -> _Step:
        with self._lock:
            self._waiting.append(step)
            lead, self._writing = not self._writing, True
        if not lead:
            step.done.wait()
            lead = step.lead
        if lead:
            self._write_waiting()
        if step.error is not None:
            raise step.error
        return step

    def _write_waiting(self) -> None:
        with self._lock:
            group, self._waiting = self._waiting, []
        try:
            self._write(group)
        except BaseException as exc:  # every lane of the group raises it: the batch fails
            for step in group:
                step.error = exc
        for step in group:
            step.lead = False
            step.done.set()
        with self._lock:
            if self._waiting:
                self._waiting[0].lead = True
                self._waiting[0].done.set()
            else:
                self._writing = False

    def _write(self, group: list[_Step]) -> None:
        from digest.subscribers.suppression import suppress

        connection = self.session.connection()
        finished = [o for step in group for o in step.outcomes]
        ids = [step.begin for step in group if step.begin is not None]
        try:
            if renewal := max((step.renew for step in group if step.renew), default=None):
                connection.execute(update(D).where(D.c.claim_token == self.token).values(
                    lease_until=utcnow() + timedelta(seconds=renewal)))
            for outcome in finished:
                if outcome.suppress:
                    suppress(self.session, outcome.suppress, "bounce")
            if connection.dialect.name == "postgresql":
                began = set(connection.exec_driver_sql(_PG_STEP, _pg_params(
                    finished, ids, self.token, self.list_id)).scalars())
            else:
                if finished:
                    connection.execute(self._FINISH, [o.params(self.token) for o in finished])
                began = set(connection.execute(self._BEGIN, {"ids": ids, "token": self.token,
                                                             "list_id": self.list_id}).scalars()) if ids else set()
            self.session.commit()
        except BaseException:
            self.session.rollback()
            raise
        for step in group:
            step.began = step.begin in began
            if step.begin is not None and not step.began:
                step.refusal = why_not(self.session, step.begin, self.token)
        self.session.rollback()  # no read transaction left open between steps


# The same two statements as one on PostgreSQL: the outcomes as a data-modifying CTE over
# arrays (unnest) and the starts by `= ANY(array)`. One fixed text whatever the group's
# size, so the server plans it once; no SQL is compiled per group.
_PG_STEP = f"""
WITH finished AS (
  UPDATE delivery AS d
  SET status = f.outcome, last_error = f.error, next_attempt_at = f.next_attempt_at,
      sent_at = f.sent_at, outcome_at = f.outcome_at, claim_token = NULL, lease_until = NULL,
      attempts = CASE WHEN d.status = '{DeliveryStatus.CLAIMED}' THEN d.attempts + 1 ELSE d.attempts END
  FROM unnest(%(f_id)s::int[], %(f_outcome)s::text[], %(f_error)s::text[],
              %(f_next)s::timestamptz[], %(f_sent)s::timestamptz[], %(f_at)s::timestamptz[])
       AS f(id, outcome, error, next_attempt_at, sent_at, outcome_at)
  WHERE d.id = f.id AND d.claim_token = %(token)s
)
UPDATE delivery AS d SET status = '{DeliveryStatus.SENDING}', attempts = d.attempts + 1
WHERE d.id = ANY(%(begin)s::int[]) AND d.claim_token = %(token)s AND d.status = '{DeliveryStatus.CLAIMED}'
  AND EXISTS (SELECT 1 FROM edition AS e WHERE e.id = d.edition_id AND e.status = '{EditionStatus.SENDING}')
  AND EXISTS (SELECT 1 FROM subscription AS s WHERE s.subscriber_id = d.subscriber_id
              AND s.list_id = %(list_id)s AND s.status = '{SubscriptionStatus.ACTIVE}')
RETURNING d.id
"""


def _pg_params(finished: list[Outcome], begin: list[int], token: str, list_id: int) -> dict:
    rows = [o.params(token) for o in finished]
    return {"f_id": [r["finished_id"] for r in rows], "f_outcome": [r["outcome"] for r in rows],
            "f_error": [r["error"] for r in rows], "f_next": [r["next_attempt_at"] for r in rows],
            "f_sent": [r["sent_at"] for r in rows], "f_at": [r["outcome_at"] for r in rows],
            "begin": begin, "token": token, "list_id": list_id}


@contextmanager
def writer(session: Session, token: str, list_id: int) -> Iterator[Writer]:
    """The per-message writer for a batch holding `token`, on a connection of its own (the
    batch's session stays free for its other writes while lanes send)."""
    # Bound to one connection for the whole batch: no pool checkout (and its ping) per group.
    with session.get_bind().connect() as connection, \
            Session(bind=connection, expire_on_commit=False, join_transaction_mode="rollback_only") as own:
        yield Writer(own, token, list_id)


class Refusal(StrEnum):
    """Why :meth:`Writer.step` refused to start a row."""

    TAKEN = "taken"                # another batch holds it now (our lease ran out)
    STOPPED = "stopped"            # the edition was paused or cancelled
    UNSUBSCRIBED = "unsubscribed"  # the subscriber left the list meanwhile


def why_not(session: Session, delivery_id: int, token: str) -> Refusal:
    row = session.execute(
        select(D.c.claim_token, D.c.status, E.c.status)
        .join(E, E.c.id == D.c.edition_id).where(D.c.id == delivery_id)).one_or_none()
    if row is None:
        return Refusal.TAKEN  # the subscriber was erased meanwhile: the row went with them
    claim_token, status, edition_status = row
    if claim_token != token or status != DeliveryStatus.CLAIMED:
        return Refusal.TAKEN
    if edition_status != EditionStatus.SENDING:
        return Refusal.STOPPED
    return Refusal.UNSUBSCRIBED
