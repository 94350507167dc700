"""`digest bounces process`, run as a real process the way Postfix runs it: bounce mails of
several MTAs in, Feedback rows, suppressions and subscription states out."""

import mailbox
import subprocess
import sys

import pytest
from sqlmodel import select

from digest.models import Feedback
from digest.subscribers.suppression import email_hash, suppression_reason
from tests.bounces.mails import dsn, not_a_bounce
from tests.workers import digest_env

ADA, GRACE, KATHERINE = "ada.lovelace@example.com", "grace.hopper@example.com", "katherine.johnson@example.com"
MARGARET, EDSGER = "margaret.hamilton@example.com", "edsger@example.com"


def env_of(settings):
    return digest_env(database_url=settings.database_url, secret_key=settings.secret_key,
                      from_email=settings.from_email, bounce_address=settings.bounce_address,
                      data_dir=settings.data_dir)


def process(env, *args, stdin: bytes | None = None):
    return subprocess.run([sys.executable, "-m", "digest.cli", "bounces", "process", *args],
                          env=env, input=stdin, capture_output=True, timeout=120)


def kinds(sent, email):
    sent.session.expire_all()
    return [f.kind for f in sent.session.exec(select(Feedback).where(
        Feedback.email_hash == email_hash(email)).order_by(Feedback.id)).all()]


def test_bounces_of_several_mtas_are_recorded_and_acted_on_once(sent, tmp_path):
    mails = {
        "postfix-user-unknown.eml": dsn("postfix", to=sent.return_path(ADA), recipient=ADA, status="5.1.1",
                                        diagnostic=f"550 5.1.1 <{ADA}>: Recipient address rejected: "
                                                   "User unknown in virtual mailbox table"),
        "exim-no-account.eml": dsn("exim", to=sent.return_path(GRACE), recipient=GRACE, status="5.0.0",
                                   diagnostic="550-5.1.1 The email account that you tried to reach does not exist."),
        "exchange-not-found.eml": dsn("exchange", to=sent.return_path(KATHERINE), recipient=KATHERINE,
                                      status="5.1.10", diagnostic="550 5.1.10 RESOLVER.ADR.RecipientNotFound; "
                                                                  "Recipient not found by SMTP address lookup"),
        "out-of-office.eml": not_a_bounce(sent.return_path(EDSGER)),
    }
    # Margaret's mailbox is full three times: the third soft bounce (3 within 15 days) suppresses.
    for n in range(3):
        mails[f"gmail-over-quota-{n}.eml"] = dsn(
            "gmail", to=sent.return_path(MARGARET), recipient=MARGARET, status="5.2.2",
            diagnostic="552-5.2.2 The email account that you tried to reach is over quota.",
            report_id=f"<quota.{n}@googlemail.com>")
    files = []
    for name, raw in mails.items():
        (tmp_path / name).write_bytes(raw)
        files.append(str(tmp_path / name))
    env = env_of(sent.settings)
    result = process(env, *files)
    assert result.returncode == 0, result.stderr.decode()
    out = result.stdout.decode()
    assert "out-of-office.eml: 1 ignore; 0 recorded" in out
    assert "postfix-user-unknown.eml: 1 hard; 1 recorded" in out
    sent.session.expire_all()
    assert [suppression_reason(sent.session, a) for a in (ADA, GRACE, KATHERINE, MARGARET, EDSGER)] == \
        ["bounce", "bounce", "bounce", "soft-bounce", None]
    assert kinds(sent, ADA) == ["hard"] and kinds(sent, MARGARET) == ["soft"] * 3
    row = sent.session.exec(select(Feedback).where(Feedback.email_hash == email_hash(KATHERINE))).one()
    assert (row.status, row.source, row.edition_id) == ("5.1.10", "mail", sent.edition.id)
    assert "RecipientNotFound" in row.reason

    again = process(env, *files)            # the same reports once more: nothing new
    assert again.returncode == 0 and "1 already seen" in again.stdout.decode()
    assert kinds(sent, ADA) == ["hard"] and kinds(sent, MARGARET) == ["soft"] * 3


def test_a_bounce_naming_none_of_our_addresses_is_attributed_by_its_return_path_from_stdin(sent):
    # Edsger's mailbox forwarded the digest to an old address, which bounced: the report
    # names only that address; the return path it came back to names Edsger's delivery.
    raw = dsn("postfix", to=sent.return_path(EDSGER), recipient="e.dijkstra@old-university.example",
              status="5.1.1", diagnostic="550 5.1.1 <e.dijkstra@old-university.example>: mailbox unavailable")
    assert EDSGER.encode() not in raw
    result = process(env_of(sent.settings), "-", stdin=raw)
    assert result.returncode == 0, result.stderr.decode()
    sent.session.expire_all()
    assert suppression_reason(sent.session, EDSGER) == "bounce"
    assert suppression_reason(sent.session, "e.dijkstra@old-university.example") is None
    assert kinds(sent, EDSGER) == ["hard"]


def test_a_maildir_is_read_once_its_messages_marked_seen(sent, tmp_path):
    box = mailbox.Maildir(tmp_path / "Maildir", create=True)
    box.add(dsn("exim", to=sent.return_path(GRACE), recipient=GRACE, status="5.1.1",
                diagnostic="550 5.1.1 unknown user"))
    box.add(not_a_bounce(sent.return_path(ADA)))
    env = env_of(sent.settings)
    first = process(env, str(tmp_path / "Maildir"))
    assert first.returncode == 0, first.stderr.decode()
    assert first.stdout.decode().count("Maildir:") == 2
    box = mailbox.Maildir(tmp_path / "Maildir", create=False)
    assert all("S" in box.get_message(key).get_flags() and box.get_message(key).get_subdir() == "cur"
               for key in box.iterkeys())
    second = process(env, str(tmp_path / "Maildir"))
    assert second.returncode == 0 and second.stdout.decode() == ""
    sent.session.expire_all()
    assert suppression_reason(sent.session, GRACE) == "bounce"


def test_an_unreadable_file_is_named_and_the_others_processed(sent, tmp_path):
    good = tmp_path / "good.eml"
    good.write_bytes(dsn("postfix", to=sent.return_path(ADA), recipient=ADA, status="5.1.1",
                         diagnostic="550 5.1.1 user unknown"))
    result = process(env_of(sent.settings), str(tmp_path / "missing.eml"), str(good))
    assert result.returncode == 66
    assert "missing.eml: cannot be read" in result.stderr.decode()
    sent.session.expire_all()
    assert suppression_reason(sent.session, ADA) == "bounce"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_database_outage_asks_postfix_to_retry(sent, tmp_path):
    env = env_of(sent.settings) | {"DIGEST_DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:9/nowhere"}
    raw = dsn("postfix", to=sent.return_path(ADA), recipient=ADA, status="5.1.1", diagnostic="550 5.1.1 x")
    result = process(env, "-", stdin=raw)
    assert result.returncode == 75, result.stderr.decode()
    assert "<stdin>" in result.stderr.decode()
    assert suppression_reason(sent.session, ADA) is None
