"""The SMTP backend against a real SMTP server."""

import socket
import threading

import pytest

from digest.mail.backends.base import Job
from digest.mail.backends.smtp import SMTPBackend
from digest.mail.errors import Bounce, Rejected, TemporaryFailure
from digest.mail.message import OutgoingMessage
from tests.smtp_server import SMTPSink, free_port


@pytest.fixture(params=[True, False], ids=["pipelining", "one-by-one"])
def smtp_server(request):
    """Each test against a server that offers PIPELINING and one that does not."""
    sink = SMTPSink(pipelining=request.param)
    sink.start()
    yield sink
    sink.stop()


def message(to: str, sender: str = "a@example.org") -> OutgoingMessage:
    data = (f"From: {sender}\r\nTo: {to}\r\nSubject: hi\r\nMessage-ID: <m.{to}>\r\n\r\n"
            ".leading dot survives\r\nbody\r\n").encode()
    return OutgoingMessage(sender, to, f"<m.{to}>", data)


def test_one_connection_delivers_many_and_dots_survive(smtp_server):
    with SMTPBackend(host="127.0.0.1", port=smtp_server.port) as backend:
        assert backend.pipelining == smtp_server.pipelining
        for n in range(3):
            backend.send(message(f"r{n}@example.net"))
    assert smtp_server.recipients() == ["r0@example.net", "r1@example.net", "r2@example.net"]
    assert ".leading dot survives" in smtp_server.messages[0].get_content()


def test_replies_are_classified_per_recipient(smtp_server):
    smtp_server.refuse["gone@example.net"] = "550 5.1.1 no such user"
    smtp_server.refuse["busy@example.net"] = "451 4.3.0 try later"
    smtp_server.refuse["full@example.net"] = "552 5.2.2 mailbox full"
    with SMTPBackend(host="127.0.0.1", port=smtp_server.port) as backend:
        with pytest.raises(Bounce) as bounced:
            backend.send(message("gone@example.net"))
        with pytest.raises(TemporaryFailure) as deferred:
            backend.send(message("busy@example.net"))
        with pytest.raises(TemporaryFailure):
            backend.send(message("full@example.net"))
        backend.send(message("fine@example.net"))
    assert (bounced.value.code, deferred.value.code) == (550, 451)
    assert bounced.value.recipient == "gone@example.net"
    assert smtp_server.recipients() == ["fine@example.net"]


def test_a_refused_sender_is_never_a_bounce_and_the_connection_goes_on(smtp_server):
    smtp_server.refuse_sender["held@example.org"] = "550 5.7.1 sender not allowed"
    with SMTPBackend(host="127.0.0.1", port=smtp_server.port) as backend:
        with pytest.raises(Rejected, match="the relay refuses our mail") as refused:
            backend.send(message("a@example.net", sender="held@example.org"))
        assert refused.value.code == 550 and backend.connection is not None
        backend.send(message("b@example.net"))
    assert smtp_server.recipients() == ["b@example.net"]


def test_an_unreachable_server_is_a_temporary_failure():
    backend = SMTPBackend(host="127.0.0.1", port=free_port(), timeout=2)
    with pytest.raises(TemporaryFailure, match="cannot connect"):
        backend.send(message("x@example.net"))


def test_a_dropped_connection_defers_and_the_next_message_reconnects(smtp_server):
    smtp_server.drop_every(2)
    with SMTPBackend(host="127.0.0.1", port=smtp_server.port) as backend:
        backend.send(message("a@example.net"))
        backend.send(message("b@example.net"))
        with pytest.raises(TemporaryFailure, match="lost"):
            backend.send(message("c@example.net"))
        backend.send(message("c@example.net"))
    assert smtp_server.recipients() == ["a@example.net", "b@example.net", "c@example.net"]


def test_421_closes_the_connection_and_the_next_message_reconnects(smtp_server):
    smtp_server.busy("421 4.7.0 too busy", count=1)
    with SMTPBackend(host="127.0.0.1", port=smtp_server.port) as backend:
        with pytest.raises(TemporaryFailure) as refused:
            backend.send(message("a@example.net"))
        assert refused.value.code == 421 and backend.connection is None
        backend.send(message("a@example.net"))
    assert smtp_server.recipients() == ["a@example.net"]


class TurnCounter:
    """A bare SMTP server that counts round trips: each time the client writes again after
    the server answered is one turn. It answers only once it has read everything the client
    sent, as a pipelining server may."""

    def __init__(self):
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.turns, self.messages = 0, 0
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        connection, _ = self.listener.accept()
        connection.sendall(b"220 counter\r\n")
        buffer, in_data, answered = b"", False, True
        while data := connection.recv(65536):
            self.turns += answered
            buffer += data
            replies = []
            while True:
                if in_data:
                    end = buffer.find(b"\r\n.\r\n")
                    if end < 0:
                        break
                    buffer, in_data = buffer[end + 5:], False
                    self.messages += 1
                    replies.append(b"250 accepted")
                    continue
                line, found, rest = buffer.partition(b"\r\n")
                if not found:
                    break
                buffer, verb = rest, line.split(b" ")[0].upper()
                if verb == b"EHLO":
                    replies.append(b"250-counter\r\n250 PIPELINING")
                elif verb == b"DATA":
                    in_data = True
                    replies.append(b"354 go on")
                else:
                    replies.append(b"221 bye" if verb == b"QUIT" else b"250 ok")
            answered = bool(replies)
            if replies:
                connection.sendall(b"\r\n".join(replies) + b"\r\n")
        connection.close()


def test_pipelining_costs_one_round_trip_a_message():
    server = TurnCounter()
    jobs = [Job(n, message(f"r{n}@example.net")) for n in range(6)]
    gate = Gate()
    with SMTPBackend(host="127.0.0.1", port=server.port) as backend:
        backend.send_stream(iter(jobs), gate)
    server.thread.join(5)
    assert server.messages == 6 and gate.outcomes == [None] * 6
    # EHLO, the first envelope, one write a message (its data with the next envelope), QUIT.
    assert server.turns == 1 + 1 + 6 + 1


class Gate:
    def __init__(self):
        self.outcomes = []

    def begin(self, job):
        return True

    def done(self, job, failure):
        self.outcomes.append(failure)
