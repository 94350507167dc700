"""A real SMTP server for tests (aiosmtpd on a free loopback port) that records what it
receives and can be told to refuse chosen recipients or drop connections."""

from __future__ import annotations

import socket
import threading
from email import message_from_bytes, policy

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SMTPProtocol


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SMTPSink:
    def __init__(self) -> None:
        self.messages: list = []
        self.lock = threading.Lock()
        # recipient -> SMTP reply to give at RCPT, e.g. "550 5.1.1 no such user"
        self.refuse: dict[str, str] = {}
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    def start(self) -> None:
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if reply := self.refuse.get(address):
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        parsed = message_from_bytes(envelope.content, policy=policy.SMTP)
        with self.lock:
            self.messages.append(parsed)
        return "250 Message accepted"

    def message_ids(self) -> list[str]:
        with self.lock:
            return [m["Message-ID"] for m in self.messages]

    def recipients(self) -> list[str]:
        with self.lock:
            return [m["To"].addresses[0].addr_spec for m in self.messages]
