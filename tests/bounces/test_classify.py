"""Real-shaped bounce, complaint and auto-reply mails of many MTAs through `classify` and
`digest bounces classify` (pure reading: no database)."""

import csv
import json
import shutil
from collections import defaultdict
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from digest.bounces import classify as classify_module
from digest.bounces.classify import classify
from digest.bounces.findings import Finding, Kind
from digest.cli import app

SAMPLES = Path(__file__).parent / "samples"
RETURN_PATH = "bounces+e12s34.sig@news.example.org"


def _expected() -> dict[str, list[tuple[str | None, str, str | None]]]:
    rows = defaultdict(list)
    with (SAMPLES / "expected.csv").open(newline="") as handle:
        for row in csv.DictReader(handle):
            rows[row["file"]].append((row["recipient"] or None, row["kind"], row["status"] or None))
    return dict(rows)


EXPECTED = _expected()


def test_every_sample_has_an_expectation_and_every_expectation_a_sample():
    assert sorted(EXPECTED) == sorted(p.name for p in SAMPLES.glob("*.eml"))
    kinds = {kind for rows in EXPECTED.values() for _, kind, _ in rows}
    assert kinds == {"hard", "soft", "complaint", "unsubscribe", "ignore"}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_sample_names_the_recipient_kind_and_status(name):
    findings = classify((SAMPLES / name).read_bytes())
    assert [(f.recipient, str(f.kind), f.status) for f in findings] == EXPECTED[name]


def test_the_cli_prints_one_json_line_per_recipient_for_every_sample():
    result = CliRunner().invoke(app, ["bounces", "classify", *map(str, sorted(SAMPLES.glob("*.eml")))])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert {tuple(sorted(line)) for line in lines} == {("file", "kind", "reason", "recipient", "status")}
    printed = defaultdict(list)
    for line in lines:
        printed[Path(line["file"]).name].append((line["recipient"], line["kind"], line["status"]))
    assert printed == EXPECTED
    assert all(line["reason"] for line in lines)


def test_a_maildir_is_read_from_cur_and_new_and_an_unreadable_file_is_named(tmp_path):
    maildir = tmp_path / "bounces"
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True)
    shutil.copy(SAMPLES / "postfix_user_unknown.eml", maildir / "new" / "1.host:2,")
    shutil.copy(SAMPLES / "arf_yahoo.eml", maildir / "cur" / "2.host:2,S")
    shutil.copy(SAMPLES / "qmail_no_mailbox.eml", maildir / "tmp" / "3.host")  # still arriving
    missing = tmp_path / "gone.eml"
    result = CliRunner().invoke(app, ["bounces", "classify", str(maildir), str(missing)])
    assert result.exit_code == 1
    kinds = [(json.loads(line)["recipient"], json.loads(line)["kind"])
             for line in result.stdout.splitlines()]
    assert kinds == [("complainer@yahoo.com", "complaint"), ("ghost@example.net", "hard")]
    assert str(missing) in result.stderr and "No such file" in result.stderr


def test_a_mail_that_is_no_report_prints_one_ignore_line(tmp_path):
    note = tmp_path / "note.eml"
    note.write_bytes(b"From: a@example.com\r\nSubject: hello\r\n\r\nLunch at 12?\r\n")
    result = CliRunner().invoke(app, ["bounces", "classify", str(note)])
    assert result.exit_code == 0
    [line] = result.stdout.splitlines()
    assert json.loads(line) == {"file": str(note), "recipient": None, "kind": "ignore",
                                "status": None, "reason": "not a delivery failure report"}


def test_bounces_carry_our_message_id_and_return_path_from_the_report():
    for name in ("postfix_user_unknown.eml", "exim_user_unknown.eml", "qmail_no_mailbox.eml",
                 "gmail_no_such_user.eml"):
        [finding] = classify((SAMPLES / name).read_bytes())
        assert finding.message_id == f"<e12.s34.{name.removesuffix('.eml')}@news.example.org>", name
        assert finding.return_path == RETURN_PATH, name


def test_a_complaint_names_the_original_message_and_our_envelope_sender():
    [finding] = classify((SAMPLES / "arf_aol.eml").read_bytes())
    assert finding == Finding(Kind.COMPLAINT, "spamhater@aol.com", None,
                              "feedback report: abuse (AOL SComp)", RETURN_PATH,
                              "<e12.s34.arf_aol@news.example.org>")


def test_a_not_spam_report_is_no_complaint():
    raw = (SAMPLES / "arf_comcast.eml").read_bytes().replace(b"Feedback-Type: abuse",
                                                              b"Feedback-Type: not-spam")
    [finding] = classify(raw)
    assert finding.kind is Kind.IGNORE


def test_the_unsubscribe_token_is_read_from_the_subject():
    [finding] = classify((SAMPLES / "unsubscribe_mailto.eml").read_bytes())
    assert (finding.kind, finding.recipient, finding.token) == (
        Kind.UNSUBSCRIBE, "leaving.reader@example.net", "3.Zm9v.c2ln-x")
    [bare] = classify((SAMPLES / "unsubscribe_bare.eml").read_bytes())
    assert (bare.kind, bare.recipient, bare.token) == (Kind.UNSUBSCRIBE, "typed@example.com", None)


def test_a_reply_about_unsubscribing_is_not_a_request():
    raw = (SAMPLES / "unsubscribe_bare.eml").read_bytes().replace(
        b"Subject: UNSUBSCRIBE", b"Subject: Re: how do I unsubscribe?")
    assert [f.kind for f in classify(raw)] == [Kind.IGNORE]


def test_a_delay_notice_is_ignored_but_the_final_failure_is_not():
    delayed = (SAMPLES / "postfix_delayed.eml").read_bytes()
    assert [f.kind for f in classify(delayed)] == [Kind.IGNORE]
    failed = delayed.replace(b"Action: delayed", b"Action: failed")
    assert [(f.kind, f.recipient) for f in classify(failed)] == [(Kind.SOFT, "later@example.com")]


_MAILS = [path.read_bytes() for path in sorted(SAMPLES.glob("*.eml"))]


@st.composite
def mangled(draw):
    """A sample cut, spliced and sprinkled with random bytes: what broken gateways send."""
    raw = bytearray(draw(st.sampled_from(_MAILS)))
    for _ in range(draw(st.integers(0, 6))):
        at = draw(st.integers(0, len(raw)))
        action = draw(st.sampled_from(["insert", "delete", "truncate"]))
        if action == "insert":
            raw[at:at] = draw(st.binary(min_size=1, max_size=40) | st.sampled_from(
                [b"\r\n\r\n", b"--", b"=?utf-8?B?", b"Content-Type: multipart/report; boundary=",
                 b"\xff\xfe", b"charset=\"x-unknown\"", b"Content-Transfer-Encoding: base64\r\n"]))
        elif action == "delete":
            del raw[at:at + draw(st.integers(1, 200))]
        else:
            del raw[at:]
    return bytes(raw)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.binary(max_size=2000), mangled()))
def test_any_bytes_give_findings_and_never_an_exception(raw):
    # The inner reader, not the public safety net: a crash here is a bug to fix.
    findings = classify_module._classify(raw)
    assert findings and all(isinstance(f, Finding) and f.kind in Kind for f in findings)
    assert all(f.recipient is None or "@" in f.recipient for f in findings)


def test_the_safety_net_turns_an_unexpected_error_into_an_ignore(monkeypatch):
    def broken(_raw):
        raise RuntimeError("a bug")
    monkeypatch.setattr(classify_module, "_classify", broken)
    assert classify(b"anything") == [Finding(Kind.IGNORE, reason="unreadable mail: RuntimeError")]


def test_a_global_delivery_status_report_is_read_like_a_plain_one():
    # RFC 6533: what Microsoft 365 and Postfix send for internationalised mail.
    # The reason is only in the machine-readable part of this one.
    raw = (SAMPLES / "ses_user_unknown.eml").read_bytes().replace(
        b"Content-Type: message/delivery-status", b"Content-Type: message/global-delivery-status")
    [finding] = classify(raw)
    assert (finding.kind, finding.recipient, finding.status, finding.reason) == (
        Kind.HARD, "nouser@example.com", "5.1.1", "550 5.1.1 user unknown")


def test_the_only_reason_a_report_gives_applies_to_each_of_its_recipients():
    raw = (b"From: MAILER-DAEMON@mail.example.com\r\nSubject: failure notice\r\n\r\n"
           b"Hi. This is the qmail-send program at mail.example.com.\r\n"
           b"I'm afraid I wasn't able to deliver your message to the following addresses.\r\n"
           b"This is a permanent error; I've given up. Sorry it didn't work out.\r\n\r\n"
           b"<alias@example.com>:\r\n\r\n"
           b"<owner@example.com>:\r\n"
           b"Remote host said: 552 Quota violation for owner@example.com\r\n\r\n"
           b"--- Below this line is a copy of the message.\r\n")
    assert sorted((f.recipient, f.kind) for f in classify(raw)) == [
        ("alias@example.com", Kind.SOFT), ("owner@example.com", Kind.SOFT)]
    # With a second reason in the report, an address without its own is not given another's.
    two = raw.replace(b"<alias@example.com>:\r\n\r\n",
                      b"<alias@example.com>:\r\n\r\n<third@example.com>:\r\n"
                      b"Remote host said: 550 5.1.1 no such user third@example.com\r\n\r\n")
    kinds = {f.recipient: f.kind for f in classify(two)}
    assert kinds == {"alias@example.com": Kind.HARD, "owner@example.com": Kind.SOFT,
                     "third@example.com": Kind.HARD}


def test_a_feedback_report_without_its_fields_part_is_still_a_complaint():
    raw = (SAMPLES / "arf_yahoo.eml").read_bytes().replace(
        b"Content-Type: message/feedback-report", b"Content-Type: text/plain")
    [finding] = classify(raw)
    assert (finding.kind, finding.recipient, finding.message_id) == (
        Kind.COMPLAINT, "complainer@yahoo.com", "<e12.s34.arf_yahoo@news.example.org>")


def test_a_bounce_that_names_no_address_is_still_reported_for_its_return_path():
    raw = (b"From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\r\n"
           b"To: bounces+e12s34.sig@news.example.org\r\n"
           b"Subject: Mail delivery failed: returning message to sender\r\n\r\n"
           b"A message that you sent could not be delivered to one or more of its recipients.\r\n"
           b"One or more of the recipients are not a valid user of the system.\r\n")
    [finding] = classify(raw)
    assert (finding.kind, finding.recipient, finding.return_path) == (
        Kind.HARD, None, RETURN_PATH)


def test_an_address_is_not_mistaken_for_a_longer_one_that_ends_with_it():
    raw = (b"From: MAILER-DAEMON@mail.example.com\r\nSubject: failure notice\r\n\r\n"
           b"Hi. This is the qmail-send program at mail.example.com.\r\n"
           b"This is a permanent error; I've given up. Sorry it didn't work out.\r\n\r\n"
           b"<userx@example.com>:\r\n"
           b"Remote host said: 552 5.2.2 Mailbox full\r\n\r\n"
           b"<x@example.com>:\r\n"
           b"Remote host said: 550 5.1.1 No such user\r\n\r\n"
           b"--- Below this line is a copy of the message.\r\n")
    kinds = {f.recipient: (f.kind, f.status) for f in classify(raw)}
    assert kinds == {"userx@example.com": (Kind.SOFT, "5.2.2"), "x@example.com": (Kind.HARD, "5.1.1")}


def test_a_forwarded_complaint_names_the_original_inside_the_report():
    [finding] = classify((SAMPLES / "arf_forwarded.eml").read_bytes())
    assert (finding.recipient, finding.message_id) == (
        "complainer@yahoo.com", "<e12.s34.arf_yahoo@news.example.org>")


@pytest.mark.parametrize("name", ["ses_sns_email.eml", "ses_sns_email_json.eml"])
def test_an_ses_notification_mailed_by_sns_names_our_message_and_return_path(name):
    findings = classify((SAMPLES / name).read_bytes())
    assert {f.message_id for f in findings} == {f"<e12.s34.{name.removesuffix('.eml')}@news.example.org>"}
    assert {f.return_path for f in findings} == {RETURN_PATH}


def test_a_mail_that_starts_with_other_json_is_no_ses_notification():
    raw = (b"From: ada@example.com\r\nTo: news@example.org\r\nSubject: config\r\n\r\n"
           b'{"notificationType": "Delivery", "mail": {}}\r\n')
    [finding] = classify(raw)
    assert finding.kind is Kind.IGNORE and finding.recipient is None
    envelope = {"Type": "Notification", "MessageId": "m1", "Message": '{"notificationType": "Bounce"}'}
    [finding] = classify(b"From: sns@example.com\r\nSubject: x\r\n\r\n" + json.dumps(envelope).encode())
    assert finding.kind is Kind.IGNORE


def test_a_person_complaining_in_words_is_no_feedback_report():
    raw = (b"From: ada@example.com\r\nTo: news@example.org\r\n"
           b"Subject: Complaint about message from your newsletter\r\n\r\nToo many mails!\r\n")
    assert [f.kind for f in classify(raw)] == [Kind.IGNORE]
