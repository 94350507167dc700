"""Complaints and unsubscribe mails through `digest bounces process` (needs the full classifier)."""

from sqlmodel import select

from digest.models import Subscription
from digest.subscribers import manage
from digest.subscribers.suppression import suppression_reason
from digest.subscribers.tokens import Purpose, make_token
from tests.bounces.test_process_cli import ADA, GRACE, env_of, kinds, process


def arf(return_path: str, recipient: str, message_id: str) -> bytes:
    return f"""\
From: feedback@arf.mail.yahoo.com
To: fbl@news.example.org
Subject: FW: Your morning briefing
Message-ID: <fbl.{recipient.replace("@", ".")}@arf.mail.yahoo.com>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary="ARF"

--ARF
Content-Type: text/plain

This is an email abuse report.

--ARF
Content-Type: message/feedback-report

Feedback-Type: abuse
User-Agent: Yahoo!-Mail-Feedback/2.0
Version: 1
Original-Mail-From: <{return_path}>
Original-Rcpt-To: <{recipient}>

--ARF
Content-Type: message/rfc822

Return-Path: <{return_path}>
From: Example Daily <daily@news.example.org>
To: {recipient}
Message-ID: {message_id}
Subject: Your morning briefing

Today's stories

--ARF--
""".replace("\n", "\r\n").encode()


def test_a_complaint_after_an_unsubscribe_becomes_a_complaint(sent):
    ada = sent.subscriber(ADA)
    manage.unsubscribe(sent.session, ada.id, None)
    raw = arf(sent.return_path(ADA), ADA, f"<digest.{sent.edition.id}.{ada.id}@news.example.org>")
    result = process(env_of(sent.settings), "-", stdin=raw)
    assert result.returncode == 0, result.stderr.decode()
    sent.session.expire_all()
    assert suppression_reason(sent.session, ADA) == "complaint" and kinds(sent, ADA) == ["complaint"]


def test_an_unsubscribe_mail_leaves_the_tokens_list(sent):
    grace = sent.subscriber(GRACE)
    tech = sent.lists["tech-and-science"]
    token = make_token(sent.settings.secret_key, Purpose.UNSUBSCRIBE, grace, tech.id)
    raw = (f"From: Grace <{GRACE}>\r\nTo: unsubscribe@news.example.org\r\n"
           f"Subject: unsubscribe {token}\r\nMessage-ID: <u.1@example.com>\r\n\r\n\r\n").encode()
    result = process(env_of(sent.settings), "-", stdin=raw)
    assert result.returncode == 0, result.stderr.decode()
    sent.session.expire_all()
    mine = dict(sent.session.exec(select(Subscription.list_id, Subscription.status).where(
        Subscription.subscriber_id == grace.id)).all())
    assert mine == {tech.id: "unsubscribed", sent.lists["morning-briefing"].id: "active"}
