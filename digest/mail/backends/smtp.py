"""SMTP delivery over one reused connection, with replies classified for the ledger.

When the server offers PIPELINING (RFC 2920), MAIL, RCPT and DATA go out in one write and
their replies are read in order: two round trips per message instead of four. Otherwise the
same commands go one by one, each waiting for its reply. Either way the replies are judged
alike."""

from __future__ import annotations

import re
import smtplib
import ssl as ssl_module

from digest.mail.backends.base import MailBackend
from digest.mail.errors import PermanentFailure, TemporaryFailure, UnknownOutcome
from digest.mail.message import OutgoingMessage

# 552 (mailbox full / storage exceeded) is treated as temporary, as RFC 5321 suggests.
TEMPORARY_5XX = {552}
_LEADING_DOT = re.compile(rb"(?m)^\.")


def classify(code: int, reason: str, recipient: str):
    """The exception for an SMTP reply code."""
    if 400 <= code < 500 or code in TEMPORARY_5XX:
        return TemporaryFailure(reason, recipient=recipient, code=code)
    return PermanentFailure(reason, recipient=recipient, code=code)


class SMTPBackend(MailBackend):
    def __init__(self, *, host: str, port: int, username: str | None = None,
                 password: str | None = None, starttls: bool = False, ssl: bool = False,
                 timeout: float = 30.0):
        self.host, self.port, self.timeout = host, port, timeout
        self.username, self.password = username, password
        self.starttls, self.ssl = starttls, ssl
        self.connection: smtplib.SMTP | None = None
        self.pipelining = False  # whether the open connection's server offers it
        self._data_sent = False

    def open(self) -> None:
        if self.connection is not None:
            return
        try:
            if self.ssl:
                connection = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout,
                                              context=ssl_module.create_default_context())
            else:
                connection = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            if self.starttls:
                connection.starttls(context=ssl_module.create_default_context())
            if self.username:
                connection.login(self.username, self.password or "")
            connection.ehlo_or_helo_if_needed()
        except (OSError, smtplib.SMTPException) as exc:
            raise TemporaryFailure(f"cannot connect to {self.host}:{self.port}: {exc}") from None
        self.connection = connection
        self.pipelining = connection.has_extn("pipelining")

    def close(self) -> None:
        if self.connection is None:
            return
        try:
            self.connection.quit()
        except (OSError, smtplib.SMTPException):
            self.connection.close()
        self.connection = None

    def send(self, message: OutgoingMessage) -> None:
        self.open()
        conn = self.connection
        to = message.recipient
        try:
            self._send(conn, message)
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            # The connection is gone either way; the next send reconnects.
            self.connection = None
            conn.close()
            if self._data_sent:
                raise UnknownOutcome(f"connection lost awaiting the reply: {exc}", recipient=to) from None
            raise TemporaryFailure(f"connection lost: {exc}", recipient=to) from None
        except TemporaryFailure as failure:
            if failure.code == 421:  # the server is closing the connection
                self.connection = None
                conn.close()
            raise

    def _send(self, conn: smtplib.SMTP, message: OutgoingMessage) -> None:
        to = message.recipient
        self._data_sent = False
        commands = (f"MAIL FROM:<{message.sender}>", f"RCPT TO:<{to}>", "DATA")
        if self.pipelining:
            conn.send("".join(f"{command}\r\n" for command in commands))
            replies = [conn.getreply() for _ in commands]
        else:
            replies = []
            for command in commands:
                replies.append(conn.docmd(command))
                if _envelope_failure(replies, to):
                    break
        if failure := _envelope_failure(replies, to):
            if len(replies) == 3 and replies[2][0] == 354:
                # RFC 2920: DATA accepted although the envelope failed: end an empty message.
                conn.send(b".\r\n")
                conn.getreply()
            if failure.code != 421:
                self._reset(conn)
            raise failure
        payload = message.data
        # Dot-stuffing (RFC 5321 4.5.2); the search is cheap, the substitution is not.
        if payload.startswith(b".") or b"\n." in payload:
            payload = _LEADING_DOT.sub(b"..", payload)
        if not payload.endswith(b"\r\n"):
            payload += b"\r\n"
        conn.send(payload + b".\r\n")
        # From here a lost connection means the message may or may not have arrived.
        self._data_sent = True
        code, reply = conn.getreply()
        if code != 250:
            raise classify(code, _text(reply), to)

    def _reset(self, conn: smtplib.SMTP) -> None:
        """End a refused transaction so the connection can carry the next message; a
        connection that cannot is dropped (the next send reconnects)."""
        try:
            conn.rset()
        except (smtplib.SMTPServerDisconnected, OSError):
            self.connection = None
            conn.close()


def _sender_refused(code: int, reason: str, recipient: str) -> TemporaryFailure:
    # A refused sender is our problem, not the recipient's: never a bounce.
    return TemporaryFailure(f"sender refused: {code} {reason}", recipient=recipient, code=code)


def _data_refused(code: int, reason: str, recipient: str) -> TemporaryFailure:
    return TemporaryFailure(f"DATA refused: {code} {reason}", recipient=recipient, code=code)


# MAIL, RCPT, DATA: the replies that let the transaction go on, and what any other one means.
_ENVELOPE = (((250,), _sender_refused), ((250, 251), classify), ((354,), _data_refused))


def _envelope_failure(replies: list[tuple[int, bytes]], to: str):
    """The first refusal among the replies so far, as the ledger must see it, or None."""
    for (code, reply), (accepted, refusal) in zip(replies, _ENVELOPE):
        if code not in accepted:
            return refusal(code, _text(reply), to)
    return None


def _text(reply: bytes) -> str:
    return reply.decode("utf-8", "replace")
