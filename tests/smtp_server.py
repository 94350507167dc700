"""A real SMTP server for tests (aiosmtpd on a free loopback port) that records what it
receives and can be switched, while running, into the faults real relays show:

- ``refuse[address] = "550 ..."``: a reply at RCPT for chosen recipients;
- ``refuse_sender[address] = "550 ..."``: a reply at MAIL for chosen senders;
- ``busy(reply, count)``: the next `count` RCPT commands get `reply` (421/451...);
- ``drop_every(n)``: after every `n` accepted messages the next MAIL closes the connection;
- ``SMTPSink(pipelining=False)``: a server that does not offer PIPELINING (aiosmtpd reads
  pipelined commands in order either way; by default it is advertised, as real relays do);
- ``slow(number, seconds)``: the `number`-th message is recorded, then its reply is held
  back for `seconds` (``in_flight`` is set meanwhile): a deterministic "middle of a send".
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections import Counter
from email import message_from_bytes, policy

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SMTPSink:
    def __init__(self, pipelining: bool = True) -> None:
        self.pipelining = pipelining
        self.messages: list = []
        self.lock = threading.Lock()
        # recipient -> SMTP reply to give at RCPT, e.g. "550 5.1.1 no such user"
        self.refuse: dict[str, str] = {}
        self.refuse_sender: dict[str, str] = {}
        self._busy_reply, self._busy_left = "", 0
        self._drop_every, self._since_drop = 0, 0
        self._slow_number, self._slow_seconds = 0, 0.0
        self.in_flight = threading.Event()
        self.drops = 0
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    def start(self) -> None:
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()

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
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        parsed = message_from_bytes(envelope.content, policy=policy.SMTP)
        with self.lock:
            self.messages.append(parsed)
            self._since_drop += 1
            delay = self._slow_seconds if len(self.messages) == self._slow_number else 0
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
