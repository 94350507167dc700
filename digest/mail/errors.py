"""What a backend raises when a message did not go through. One root, carrying what failed.

The kind of failure decides the ledger's outcome (see :mod:`digest.mail.replies`, the one
place that reads SMTP replies):

- :class:`TemporaryFailure`: try again later (4xx, a full mailbox, connection trouble before
  the message went out);
- :class:`Bounce`: the mailbox or its domain does not exist or no longer takes mail: the
  address is suppressed;
- :class:`Rejected`: this message was refused for a reason that is not the address's fault
  (policy, spam, relay access, size, an address the relay cannot carry): the message fails,
  the address is kept;
- :class:`UnknownOutcome`: the connection broke after the data went out, before the reply.
"""

from __future__ import annotations


class MailError(Exception):
    def __init__(self, reason: str, *, recipient: str | None = None, code: int | None = None,
                 status: str | None = None):
        super().__init__(reason)
        self.reason, self.recipient, self.code = reason, recipient, code
        self.status = status  # the enhanced status code (RFC 3463), e.g. "5.1.1", when given


class TemporaryFailure(MailError):
    """Try again later (4xx, connection refused or dropped before the message was sent)."""


class Bounce(MailError):
    """The mailbox or domain does not exist or has moved: bounce and suppress the address."""


class Rejected(MailError):
    """This message was refused (policy, relay access, spam, size, unsupported address):
    fail it, keep the address. `relay` marks refusals of our mail as a whole, which stop a
    send when they come several in a row."""

    def __init__(self, reason: str, *, relay: bool = True, **kwargs):
        super().__init__(reason, **kwargs)
        self.relay = relay


class UnknownOutcome(MailError):
    """The connection broke after the message was sent and before the server answered."""


#: What to check when the relay cannot be reached: said wherever that is reported.
CHECK_RELAY = "check DIGEST_SMTP_HOST, DIGEST_SMTP_PORT, DIGEST_SMTP_SSL and DIGEST_SMTP_STARTTLS"


class ConnectionTrouble(MailError):
    """The relay could not be reached, refused the session, or dropped it before a message
    went out: nothing was sent. `busy` marks a relay at its connection limit (421 at the
    greeting): the pool shrinks instead of failing messages."""

    def __init__(self, reason: str, *, busy: bool = False, **kwargs):
        super().__init__(reason, **kwargs)
        self.busy = busy


class NoSlot(ConnectionTrouble):
    """Every connection our workers may open to the relay together is open: not the
    relay's trouble, the others carry the mail."""

    def __init__(self, reason: str, unsent: list):
        super().__init__(reason, busy=True)
        self.unsent = unsent
