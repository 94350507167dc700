"""A real SMTP server for tests (aiosmtpd on a free loopback port) that records what it
receives and can be switched, while running, into the faults real relays show:

- ``refuse[address] = "550 ..."``: a reply at RCPT for chosen recipients;
- ``refuse_sender[address] = "550 ..."``: a reply at MAIL for chosen senders;
- ``busy(reply, count)``: the next `count` RCPT commands get `reply` (421/451...);
- ``drop_every(n)``: after every `n` accepted messages the next MAIL closes the connection;
- ``SMTPSink(pipelining=False)``: a server that does not offer PIPELINING (aiosmtpd reads
  pipelined commands in order either way; by default it is advertised, as real relays do);
- ``slow(number, seconds)``: the `number`-th message is recorded, then its reply is held
  back for `seconds` (``in_flight`` is set meanwhile): a deterministic "middle of a send";
- ``refuse_data[address] = "554 5.7.1 ..."``: a reply after the data, when a message for
  one of these recipients has been received (content and policy refusals); it is not
  recorded;
- ``drop_after_data(number, every=0)``: the `number`-th message (and, with `every`, each
  `every`-th after it) is received and recorded, then the connection is closed without a
  reply: the sender cannot know whether it was taken (``drops_after_data`` counts them);
- ``greylist(every, reply)``: every `every`-th recipient not seen before is refused once at
  RCPT with `reply` (451 by default) and accepted when it comes back, as greylisting
  relays do (``greylisted`` counts the refusals);
- ``SMTPSink(max_connections=n)`` (or setting ``max_connections`` later; None: no limit): a
  connection beyond `n` concurrent sessions is greeted with
  ``421 4.7.0 Too many connections, try again later`` and closed. ``connections`` is the
  number of sessions open, ``peak_connections`` its highest value, ``sessions_opened`` the
  sessions admitted in all, ``sessions_refused`` those turned away (the server's own
  check at start() is not counted); ``wait_connections(n)`` waits until `n` are open;
- ``down()`` / ``up()``: stop listening (connections are refused, the sessions open are
  closed) and listen again on the same port;
- ``SMTPSink(smtputf8=False)``: a server that does not offer SMTPUTF8 (refuses non-ASCII
  addresses and the SMTPUTF8 parameter);
- ``SMTPSink(headers_only=True)``: record only each message's headers (enough for
  Message-ID and To, and far cheaper for thousands of messages).
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections import Counter
from email import message_from_bytes, policy
from email.parser import BytesHeaderParser

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP

TOO_MANY = b"421 4.7.0 Too many connections, try again later\r\n"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class _Session(SMTP):
    """aiosmtpd's session, admitted by the sink (its handler) or greeted with 421 and closed."""

    def connection_made(self, transport) -> None:
        self.admitted = self.event_handler.admit(self)
        if not self.admitted:
            transport.write(TOO_MANY)
            transport.close()
            return
        super().connection_made(transport)

    def connection_lost(self, error) -> None:
        if self.admitted:
            self.event_handler.release(self)
            super().connection_lost(error)


class _Controller(Controller):
    def factory(self) -> SMTP:
        return _Session(self.handler, **self.SMTP_kwargs)


class SMTPSink:
    def __init__(self, pipelining: bool = True, max_connections: int | None = None,
                 smtputf8: bool = True, headers_only: bool = False) -> None:
        self.pipelining = pipelining
        self._parse = BytesHeaderParser(policy=policy.SMTP).parsebytes if headers_only else \
            (lambda content: message_from_bytes(content, policy=policy.SMTP))
        self.max_connections = max_connections
        self.messages: list = []
        # The envelope sender (MAIL FROM) of each recorded message, in the same order.
        self.senders: list[str] = []
        self.lock = threading.Lock()
        self.changed = threading.Condition(self.lock)
        # recipient -> SMTP reply to give at RCPT, e.g. "550 5.1.1 no such user"
        self.refuse: dict[str, str] = {}
        self.refuse_sender: dict[str, str] = {}
        # recipient -> SMTP reply to give after DATA, e.g. "554 5.7.1 message refused"
        self.refuse_data: dict[str, str] = {}
        self._busy_reply, self._busy_left = "", 0
        self._drop_every, self._since_drop = 0, 0
        self._slow_number, self._slow_seconds = 0, 0.0
        self._drop_number, self._drop_data_every = 0, 0
        self.drops_after_data = 0
        self._greylist_every, self._greylist_reply = 0, ""
        self._recipients_seen: set[str] = set()
        self._greylisted_once: set[str] = set()
        self.greylisted = 0
        self.in_flight = threading.Event()
        self.drops = 0
        self._sessions: set[_Session] = set()
        self.peak_connections = self.sessions_opened = self.sessions_refused = 0
        self.port = free_port()
        self.controller = _Controller(self, hostname="127.0.0.1", port=self.port,
                                      enable_SMTPUTF8=smtputf8)

    def start(self) -> None:
        self.controller.start()
        # Controller.start() connects once to see the server answer: not the test's session.
        self.wait_connections(0)
        with self.lock:
            self.peak_connections = self.sessions_opened = self.sessions_refused = 0

    def stop(self) -> None:
        self.controller.stop()

    @property
    def connections(self) -> int:
        return len(self._sessions)

    def wait_connections(self, count: int, timeout: float = 5.0) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: len(self._sessions) == count, timeout)

    # Called by the sessions, on the server's loop.
    def admit(self, session: _Session) -> bool:
        with self.changed:
            if self.max_connections is not None and len(self._sessions) >= self.max_connections:
                self.sessions_refused += 1
                return False
            self._sessions.add(session)
            self.sessions_opened += 1
            self.peak_connections = max(self.peak_connections, len(self._sessions))
            self.changed.notify_all()
            return True

    def release(self, session: _Session) -> None:
        with self.changed:
            self._sessions.discard(session)
            self.changed.notify_all()

    def down(self) -> None:
        asyncio.run_coroutine_threadsafe(self._down(), self.controller.loop).result()
        self.wait_connections(0)

    async def _down(self) -> None:
        self.controller.server.close()
        await self.controller.server.wait_closed()
        for session in list(self._sessions):
            session.transport.close()

    def up(self) -> None:
        # Controller.stop() closes whichever server is in `controller.server`.
        self.controller.server = asyncio.run_coroutine_threadsafe(
            self.controller._create_server(), self.controller.loop).result()

    # Switches, usable from the test thread while the server runs.
    def busy(self, reply: str, count: int) -> None:
        with self.lock:
            self._busy_reply, self._busy_left = reply, count

    def drop_every(self, n: int) -> None:
        with self.lock:
            self._drop_every, self._since_drop = n, 0

    def slow(self, number: int, seconds: float) -> None:
        with self.lock:
            self._slow_number, self._slow_seconds = number, seconds

    def drop_after_data(self, number: int, every: int = 0) -> None:
        with self.lock:
            self._drop_number, self._drop_data_every = number, every

    def greylist(self, every: int, reply: str = "451 4.7.1 Greylisted, please try again later") -> None:
        with self.lock:
            self._greylist_every, self._greylist_reply = every, reply

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        if self.pipelining:
            responses.insert(-1, "250-PIPELINING")
        return responses

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        with self.lock:
            drop = self._drop_every and self._since_drop >= self._drop_every
            if drop:
                self._since_drop, self.drops = 0, self.drops + 1
        if drop:
            server.transport.close()
            return "421 4.4.2 connection dropped by the test"
        if reply := self.refuse_sender.get(address):
            return reply
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if reply := self.refuse.get(address):
            return reply
        with self.lock:
            if self._busy_left:
                self._busy_left -= 1
                return self._busy_reply
            if self._greylist_every and address not in self._recipients_seen:
                self._recipients_seen.add(address)
                if len(self._recipients_seen) % self._greylist_every == 0:
                    self._greylisted_once.add(address)
                    self.greylisted += 1
                    return self._greylist_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        for address in envelope.rcpt_tos:
            if reply := self.refuse_data.get(address):
                return reply
        parsed = self._parse(envelope.content)
        with self.lock:
            self.messages.append(parsed)
            self.senders.append(envelope.mail_from)
            self._since_drop += 1
            delay = self._slow_seconds if len(self.messages) == self._slow_number else 0
            received, first, every = len(self.messages), self._drop_number, self._drop_data_every
            drop = received == first or bool(first and every and received > first and (received - first) % every == 0)
            self.drops_after_data += drop
        if drop:
            server.transport.close()
            return "451 4.4.2 never sent: the connection is closed first"
        if delay:
            self.in_flight.set()
            await asyncio.sleep(delay)
        return "250 Message accepted"

    def message_ids(self) -> list[str]:
        with self.lock:
            return [m["Message-ID"] for m in self.messages]

    def message_id_counts(self) -> Counter:
        return Counter(self.message_ids())

    def recipients(self) -> list[str]:
        with self.lock:
            return [m["To"].addresses[0].addr_spec for m in self.messages]
