"""SMTP delivery over one reused connection, with replies classified for the ledger."""

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
        except (OSError, smtplib.SMTPException) as exc:
            raise TemporaryFailure(f"cannot connect to {self.host}:{self.port}: {exc}") from None
        self.connection = connection

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
        conn.ehlo_or_helo_if_needed()
        code, reply = conn.mail(message.sender)
        if code != 250:
            # A refused sender is our problem, not the recipient's: never a bounce.
            raise TemporaryFailure(f"sender refused: {code} {_text(reply)}", recipient=to, code=code)
        code, reply = conn.rcpt(to)
        if code not in (250, 251):
            conn.rset()
            raise classify(code, _text(reply), to)
        code, reply = conn.docmd("DATA")
        if code != 354:
            raise TemporaryFailure(f"DATA refused: {code} {_text(reply)}", recipient=to, code=code)
        payload = _LEADING_DOT.sub(b"..", message.data)
        if not payload.endswith(b"\r\n"):
            payload += b"\r\n"
        conn.send(payload + b".\r\n")
        # From here a lost connection means the message may or may not have arrived.
        self._data_sent = True
        code, reply = conn.getreply()
        if code != 250:
            raise classify(code, _text(reply), to)

def _text(reply: bytes) -> str:
    return reply.decode("utf-8", "replace")
