"""The test SMTP server's switches, driven with plain smtplib."""

import smtplib
from contextlib import contextmanager

import pytest

from tests.smtp_server import SMTPSink


@contextmanager
def running(**options):
    sink = SMTPSink(**options)
    sink.start()
    try:
        yield sink
    finally:
        sink.stop()


def mail(to: str) -> bytes:
    return f"From: a@example.org\r\nTo: {to}\r\nSubject: hi\r\nMessage-ID: <m.{to}>\r\n\r\nbody\r\n".encode()


def send(client: smtplib.SMTP, to: str) -> None:
    client.sendmail("a@example.org", [to], mail(to))


def test_connections_beyond_the_limit_are_greeted_with_421_and_counted():
    with running(max_connections=2) as sink:
        assert (sink.connections, sink.peak_connections, sink.sessions_opened) == (0, 0, 0)
        first, second = smtplib.SMTP("127.0.0.1", sink.port), smtplib.SMTP("127.0.0.1", sink.port)
        with pytest.raises(smtplib.SMTPConnectError) as refused:
            smtplib.SMTP("127.0.0.1", sink.port)
        assert refused.value.smtp_code == 421
        assert refused.value.smtp_error == b"4.7.0 Too many connections, try again later"
        first.quit()
        assert sink.wait_connections(1)
        third = smtplib.SMTP("127.0.0.1", sink.port)
        send(third, "r@example.net")
        sink.max_connections = None
        fourth = smtplib.SMTP("127.0.0.1", sink.port)
        assert sink.wait_connections(3)
        for client in (second, third, fourth):
            client.quit()
        assert sink.wait_connections(0)
        assert (sink.peak_connections, sink.sessions_opened, sink.sessions_refused) == (3, 4, 1)
        assert sink.recipients() == ["r@example.net"]


def test_down_closes_the_sessions_and_refuses_connections_until_up(smtp_server):
    client = smtplib.SMTP("127.0.0.1", smtp_server.port)
    send(client, "before@example.net")
    smtp_server.down()
    assert smtp_server.connections == 0
    with pytest.raises(smtplib.SMTPServerDisconnected):
        send(client, "lost@example.net")
    with pytest.raises(ConnectionRefusedError):
        smtplib.SMTP("127.0.0.1", smtp_server.port)
    smtp_server.up()
    with smtplib.SMTP("127.0.0.1", smtp_server.port) as again:
        send(again, "after@example.net")
    assert smtp_server.recipients() == ["before@example.net", "after@example.net"]


@pytest.mark.parametrize("smtputf8", [True, False])
def test_smtputf8_is_offered_or_not(smtputf8):
    with running(smtputf8=smtputf8) as sink, smtplib.SMTP("127.0.0.1", sink.port) as client:
        client.ehlo()
        assert client.has_extn("smtputf8") == smtputf8


def test_refuse_data_answers_after_the_data_and_records_nothing(smtp_server):
    smtp_server.refuse_data["flagged@example.net"] = "554 5.7.1 message content refused"
    with smtplib.SMTP("127.0.0.1", smtp_server.port) as client:
        with pytest.raises(smtplib.SMTPDataError) as refused:
            send(client, "flagged@example.net")
        send(client, "fine@example.net")
    assert (refused.value.smtp_code, refused.value.smtp_error) == (554, b"5.7.1 message content refused")
    assert smtp_server.recipients() == ["fine@example.net"]


def test_drop_after_data_records_the_message_and_closes_without_a_reply(smtp_server):
    smtp_server.drop_after_data(2)
    client = smtplib.SMTP("127.0.0.1", smtp_server.port)
    send(client, "first@example.net")
    with pytest.raises(smtplib.SMTPServerDisconnected):
        send(client, "second@example.net")
    with smtplib.SMTP("127.0.0.1", smtp_server.port) as again:
        send(again, "third@example.net")
    assert smtp_server.recipients() == ["first@example.net", "second@example.net", "third@example.net"]
