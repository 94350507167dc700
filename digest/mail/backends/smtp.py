"""One SMTP connection that carries a stream of messages, one round trip each.

When the server offers PIPELINING (RFC 2920) the end of one message's data goes out in the
same write as the next message's MAIL FROM, RCPT TO and DATA, and their replies come back
together: one round trip a message. Otherwise the same commands go one by one, each
waiting for its reply. Either way every reply is judged by :func:`digest.mail.replies.judge`.

The ledger decides when data may go out: :meth:`Gate.begin` is called between the 354 and
the data, and only a True answer lets the data go. A message whose start is refused
(paused, unsubscribed meanwhile) is abandoned by closing the connection in the middle of
its DATA, which makes the server drop it (RFC 5321 4.1.1.4); the next message reconnects.
"""

from __future__ import annotations

import re
import smtplib
import socket
import ssl as ssl_module
import time
from collections.abc import Iterator
from typing import Protocol

from digest import metrics
from digest.mail.backends.base import Gate, Job, MailBackend, SingleGate
from digest.mail.errors import (
    ConnectionTrouble, MailError, NoSlot, Rejected, TemporaryFailure, UnknownOutcome,
)
from digest.mail.message import OutgoingMessage
from digest.mail.replies import Stage, judge

_LEADING_DOT = re.compile(rb"(?m)^\.")
#: How often a connection in use renews its slot under the shared cap (slots live a minute).
SLOT_REFRESH_SECONDS = 10
_ENVELOPE_STAGES = (Stage.MAIL, Stage.RCPT, Stage.DATA)


class Slot(Protocol):
    """A connection's place under the cap shared by all workers (see pool.Slots)."""

    def acquire(self) -> bool: ...
    def release(self) -> None: ...


class SMTPBackend(MailBackend):
    def __init__(self, *, host: str, port: int, username: str | None = None,
                 password: str | None = None, starttls: bool = False, ssl: bool = False,
                 timeout: float = 30.0, slot: Slot | None = None):
        self.host, self.port, self.timeout = host, port, timeout
        self.username, self.password = username, password
        self.starttls, self.ssl = starttls, ssl
        self.slot = slot
        self.connection: smtplib.SMTP | None = None
        self.pipelining = False  # whether the open connection's server offers it
        self.smtputf8 = False
        self.relay_full = False  # the last greeting was "421 too many connections"
        self._refreshed = 0.0

    # -- the connection ---------------------------------------------------------------
    def open(self) -> None:
        if self.connection is not None:
            return
        if self.slot is not None and not self.slot.acquire():
            raise NoSlot("every connection the relay allows us is in use (DIGEST_SMTP_MAX_CONNECTIONS)",
                         unsent=[])
        try:
            self.connection = self._connect()
        except BaseException as exc:
            self.relay_full = getattr(exc, "busy", False)
            if self.slot is not None:
                self.slot.release()
            raise
        self.relay_full = False
        self.pipelining = self.connection.has_extn("pipelining")
        self.smtputf8 = self.connection.has_extn("smtputf8")
        self._refreshed = time.monotonic()

    def _connect(self) -> smtplib.SMTP:
        where = f"{self.host}:{self.port}"
        try:
            if self.ssl:
                connection = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout,
                                              context=ssl_module.create_default_context())
            else:
                connection = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        except smtplib.SMTPConnectError as exc:
            text = _text(exc.smtp_error)
            # 421 at the greeting: the relay is at its connection limit (or closing).
            raise ConnectionTrouble(f"{where} refused the session: {exc.smtp_code} {text}",
                                    busy=exc.smtp_code == 421, code=exc.smtp_code) from None
        except (OSError, smtplib.SMTPException) as exc:
            raise ConnectionTrouble(f"cannot connect to {where}: {exc}") from None
        # Each write is a whole turn (a message's data and the next envelope): sending it
        # at once beats Nagle's wait for the ACK of the segments before its last one.
        connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            if self.starttls:
                connection.starttls(context=ssl_module.create_default_context())
            if self.username:
                connection.login(self.username, self.password or "")
            connection.ehlo_or_helo_if_needed()
        except smtplib.SMTPAuthenticationError as exc:
            connection.close()
            raise Rejected(f"login refused: {exc.smtp_code} {_text(exc.smtp_error)} "
                           "(check DIGEST_SMTP_USERNAME and DIGEST_SMTP_PASSWORD)") from None
        except (OSError, smtplib.SMTPException) as exc:
            connection.close()
            raise ConnectionTrouble(f"{where} broke off the session: {exc}") from None
        return connection

    def close(self) -> None:
        if self.connection is None:
            return
        try:
            self.connection.quit()
        except (OSError, smtplib.SMTPException):
            self.connection.close()
        self._forget()

    def _drop(self) -> None:
        """Close at once, without QUIT: a connection in an unknown state, or one carrying
        DATA that must not complete."""
        if self.connection is not None:
            self.connection.close()
        self._forget()

    def _forget(self) -> None:
        self.connection = None
        if self.slot is not None:
            self.slot.release()

    # -- sending -----------------------------------------------------------------------
    def send(self, message: OutgoingMessage) -> None:
        gate = SingleGate()
        try:
            self.send_stream(iter([Job(None, message)]), gate)
        except ConnectionTrouble as trouble:
            raise TemporaryFailure(trouble.reason, recipient=message.recipient) from None
        gate.raise_failure()

    def send_stream(self, jobs: Iterator[Job], gate: Gate) -> None:
        """Send every job the iterator gives, reconnecting after an abandoned message.

        Raises ConnectionTrouble (with `unsent`: the jobs taken but not begun) when the
        connection cannot be had or is lost before a message's data went out."""
        job = next(jobs, None)
        try:
            while job is not None:
                self.open_for(job)
                send = self._pipelined if self.pipelining else self._one_by_one
                job = send(job, jobs, gate)
        except BaseException:
            # Whatever broke off the stream, the connection may be mid-transaction (even
            # mid-DATA): it must never carry another message.
            self._drop()
            raise

    def open_for(self, job: Job) -> None:
        try:
            self.open()
        except MailError as failure:
            failure.unsent = [job]
            raise
        if self.slot is not None and time.monotonic() - self._refreshed > SLOT_REFRESH_SECONDS:
            if not self.slot.acquire():
                # Our slot lapsed (the connection sat idle) and another worker has it now.
                self._drop()
                raise NoSlot("every connection the relay allows us is in use "
                             "(DIGEST_SMTP_MAX_CONNECTIONS)", unsent=[job])
            self._refreshed = time.monotonic()

    def _pipelined(self, job: Job, jobs: Iterator[Job], gate: Gate) -> Job | None:
        """One connection's stream; returns the next job when the connection had to go."""
        conn = self.connection
        out, before, done = b"", 0, None  # what to write; replies to skip; job whose data is in `out`
        job = self._usable(job, jobs, gate)
        if job is None:
            return None
        out = self._envelope(job.message)
        while True:
            try:
                conn.send(out)
            except OSError as exc:
                self._lost(done, job, exc, gate)
            if done is not None:
                self._finish(conn, done, job, gate)
                done = None
            for _ in range(before):
                self._reply(conn, job)
            before = 0
            if job is None:
                return None
            replies = [self._reply(conn, job) for _ in _ENVELOPE_STAGES]
            if failure := _envelope_failure(replies, job.message):
                gate.done(job, failure)
                if failure.code == 421:  # the server is closing the connection
                    self._drop()
                    return next(jobs, None)
                # RFC 2920: DATA accepted although the envelope failed: end an empty message.
                tail = b".\r\n" if replies[2][0] == 354 else b""
                before = (1 if tail else 0) + 1
                job = self._usable(next(jobs, None), jobs, gate)
                out = tail + b"RSET\r\n" + (self._envelope(job.message) if job else b"")
                continue
            # The next job is taken (and its message built) before this one begins: whatever
            # that raises, no row is left in flight with its data never sent.
            following = self._usable(next(jobs, None), jobs, gate)
            if not gate.begin(job):
                self._drop()
                return following
            out = _data(job.message) + (self._envelope(following.message) if following else b"")
            done, job = job, following

    def _one_by_one(self, job: Job, jobs: Iterator[Job], gate: Gate) -> Job | None:
        conn = self.connection
        while (job := self._usable(job, jobs, gate)) is not None:
            replies = []
            for command in self._envelope(job.message).split(b"\r\n")[:3]:
                try:
                    conn.send(command + b"\r\n")
                except OSError as exc:
                    self._lost(None, job, exc)
                replies.append(self._reply(conn, job))
                if failure := _envelope_failure(replies, job.message):
                    break
            if failure:
                gate.done(job, failure)
                if failure.code == 421:
                    self._drop()
                    return next(jobs, None)
                try:
                    conn.rset()
                except (smtplib.SMTPServerDisconnected, OSError):
                    self._drop()
                    return next(jobs, None)
                job = next(jobs, None)
                continue
            if not gate.begin(job):
                self._drop()
                return next(jobs, None)
            try:
                conn.send(_data(job.message))
            except OSError as exc:
                self._lost(job, None, exc, gate)
            self._finish(conn, job, None, gate)
            job = next(jobs, None)
        return None

    def _usable(self, job: Job | None, jobs: Iterator[Job], gate: Gate) -> Job | None:
        """The first of `job` and those after it that this connection can carry: an
        internationalised address needs a relay that offers SMTPUTF8 (RFC 6531)."""
        while job is not None and not self.smtputf8 and not job.message.recipient.isascii():
            gate.done(job, Rejected(
                "the relay cannot carry an internationalised address (it does not offer SMTPUTF8)",
                relay=False, recipient=job.message.recipient))
            job = next(jobs, None)
        return job

    def _envelope(self, message: OutgoingMessage) -> bytes:
        utf8 = " SMTPUTF8" if not message.recipient.isascii() else ""
        return (f"MAIL FROM:<{message.sender}>{utf8}\r\nRCPT TO:<{message.recipient}>\r\nDATA\r\n"
                .encode("utf-8"))

    def _reply(self, conn: smtplib.SMTP, waiting: Job | None) -> tuple[int, bytes]:
        """A reply for a command whose message has not begun: losing the connection here
        sent nothing, so `waiting` goes back to the queue."""
        try:
            return conn.getreply()
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            self._lost(None, waiting, exc)

    def _finish(self, conn: smtplib.SMTP, done: Job, waiting: Job | None, gate: Gate) -> None:
        """The reply to `done`'s data: its outcome. Without one, the outcome is unknown."""
        try:
            code, text = conn.getreply()
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            self._lost(done, waiting, exc, gate)
        metrics.smtp_reply(code)
        gate.done(done, judge(code, _text(text), Stage.CONTENT, done.message.recipient,
                              done.message.sender))
        if code == 421:
            self._lost(None, waiting, OSError("the server closed the connection (421)"))

    def _lost(self, done: Job | None, waiting: Job | None, exc: BaseException,
              gate: Gate | None = None) -> None:
        """The connection is gone: `done`'s data may have gone out without its reply
        (unknown: never resent); `waiting` never began and goes back to the queue."""
        self._drop()
        if done is not None and gate is not None:
            gate.done(done, UnknownOutcome(f"connection lost awaiting the reply: {exc}",
                                           recipient=done.message.recipient))
        trouble = ConnectionTrouble(f"connection to {self.host}:{self.port} lost: {exc}")
        trouble.unsent = [waiting] if waiting is not None else []
        raise trouble


def _data(message: OutgoingMessage) -> bytes:
    payload = message.data
    # Dot-stuffing (RFC 5321 4.5.2); the search is cheap, the substitution is not.
    if payload.startswith(b".") or b"\n." in payload:
        payload = _LEADING_DOT.sub(b"..", payload)
    if not payload.endswith(b"\r\n"):
        payload += b"\r\n"
    return payload + b".\r\n"


def _envelope_failure(replies: list[tuple[int, bytes]], message: OutgoingMessage) -> MailError | None:
    """The first refusal among the replies so far (MAIL, RCPT, DATA), or None."""
    for (code, text), stage in zip(replies, _ENVELOPE_STAGES):
        if failure := judge(code, _text(text), stage, message.recipient, message.sender):
            metrics.smtp_reply(code)
            return failure
    return None


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply

