"""The bytes of a digest mail: headers, encodings and the DKIM signature over them."""

import base64
import subprocess
from email import message_from_bytes, policy

import dkim
import pytest

from digest.mail.dkim import DKIMSigner
from digest.mail.message import MailTemplate, message_id
from digest.render.digest import TOKENS, Personal, Rendered, personalise

RENDERED = Rendered(
    subject="Café prices fall — and more",
    html=f"<p>{TOKENS['greeting']}</p><a href=\"{TOKENS['unsubscribe_url']}\">unsubscribe</a>",
    text=f"{TOKENS['greeting']}\nUnsubscribe: {TOKENS['unsubscribe_url']}\n")
UNSUB = "https://news.example.org/unsubscribe/abc.def-123"
PERSONAL = Personal(greeting="Hi Ada,", unsubscribe_url=UNSUB,
                    preferences_url="https://news.example.org/preferences/x")


def assemble(**build) -> bytes:
    template = MailTemplate.build(rendered=RENDERED, from_email="Example Daily <daily@news.example.org>",
                                  list_name="Morning briefing", list_slug="morning", key="7:all", **build)
    return template.assemble(recipient="ada@example.net", recipient_name="Ada\r\nBcc: evil@x",
                             message_id=message_id(7, 42, template.domain), personal=PERSONAL,
                             unsubscribe_url=UNSUB).data


def test_headers_of_a_digest_mail():
    data = assemble(unsubscribe_mailto="unsubscribe@news.example.org", feedback_id="example")
    assert b"\n" not in data.replace(b"\r\n", b"")
    mail = message_from_bytes(data, policy=policy.SMTP)
    assert mail["Subject"] == RENDERED.subject
    assert b"Subject: =?utf-8?" in data  # RFC 2047 on the wire
    assert mail["Message-ID"] == "<digest.7.42@news.example.org>"
    assert mail["List-Id"] == "Morning briefing <morning.news.example.org>"
    assert mail["List-Unsubscribe"] == (
        f"<{UNSUB}>, <mailto:unsubscribe@news.example.org?subject=unsubscribe%20abc.def-123>")
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert mail["Feedback-ID"] == "7.all:morning:digest:example"
    assert mail["Date"] is not None and mail["From"].addresses[0].addr_spec == "daily@news.example.org"
    # A line break in a subscriber's name cannot add a header.
    assert mail["Bcc"] is None
    assert mail.get_body(("plain",)).get_content().startswith("Hi Ada,")


def test_without_options_there_is_no_mailto_and_no_feedback_id():
    mail = message_from_bytes(assemble(), policy=policy.SMTP)
    assert mail["List-Unsubscribe"] == f"<{UNSUB}>"
    assert mail["Feedback-ID"] is None


@pytest.fixture(scope="module")
def dkim_key(tmp_path_factory):
    folder = tmp_path_factory.mktemp("dkim")
    key = folder / "private.pem"
    subprocess.run(["openssl", "genrsa", "-out", str(key), "1024"], check=True, capture_output=True)
    public = subprocess.run(["openssl", "rsa", "-in", str(key), "-pubout", "-outform", "DER"],
                            check=True, capture_output=True).stdout
    return key, base64.b64encode(public)


def test_the_dkim_signature_covers_both_list_unsubscribe_headers_and_verifies(dkim_key):
    key, public = dkim_key
    signer = DKIMSigner.from_file(key, selector="mail", domain="news.example.org")
    data = assemble(signer=signer)
    assert b"\n" not in data.replace(b"\r\n", b"")

    def dns(name, timeout=5):
        assert name == b"mail._domainkey.news.example.org."
        return b"v=DKIM1; k=rsa; p=" + public

    assert dkim.verify(data, dnsfunc=dns)
    signature = message_from_bytes(data, policy=policy.SMTP)["DKIM-Signature"]
    signed = {h.strip().lower() for h in signature.split("h=")[1].split(";")[0].split(":")}
    assert {"list-unsubscribe", "list-unsubscribe-post", "from", "subject", "message-id"} <= signed
    # Any change to a signed header breaks it.
    tampered = data.replace(b"List-Unsubscribe-Post: List-Unsubscribe=One-Click",
                            b"List-Unsubscribe-Post: nothing")
    assert not dkim.verify(tampered, dnsfunc=dns)


def test_an_unreadable_dkim_key_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="cannot be read"):
        DKIMSigner.from_file(tmp_path / "missing.pem", selector="s", domain="d.example")
    (tmp_path / "bad.pem").write_text("not a key")
    with pytest.raises(ValueError, match="not a PEM private key"):
        DKIMSigner.from_file(tmp_path / "bad.pem", selector="s", domain="d.example")


def test_personal_values_fill_the_once_encoded_body_exactly_and_lines_stay_short():
    # Tokens at every offset, so the encoder folds some of them across soft line breaks.
    html = "".join(f"<p>{'x' * n} {TOKENS['greeting']} <a href=\"{TOKENS['unsubscribe_url']}\">é</a>"
                   f"{TOKENS['preferences_url']}</p>\n" for n in range(0, 90, 7))
    rendered = Rendered("Subject", html, html.replace("<p>", ""))
    personal = Personal(greeting="Hi Zoë \"<b>\" " + "Long-Name " * 12 + "=3D,",
                        unsubscribe_url=UNSUB + "?a=1&b=2", preferences_url="https://x.example/p/" + "q" * 120)
    template = MailTemplate.build(rendered=rendered, from_email="d@news.example.org",
                                  list_name="L", list_slug="l", key="1:all")
    data = template.assemble(recipient="ada@example.net", recipient_name=None, message_id="<m@x>",
                             personal=personal, unsubscribe_url=UNSUB).data
    body = data.split(b"\r\n\r\n", 1)[1]
    assert max(len(line) for line in body.split(b"\r\n")) <= 76
    assert b"\n" not in data.replace(b"\r\n", b"")
    mail = message_from_bytes(data, policy=policy.SMTP)
    expected = personalise(rendered, personal)
    assert mail.get_body(("html",)).get_content().replace("\r\n", "\n") == expected.html
    assert mail.get_body(("plain",)).get_content().replace("\r\n", "\n") == expected.text


def test_dkim_settings_come_all_together_and_header_settings_are_one_line(tmp_path):
    from digest.settings import Settings
    with pytest.raises(ValueError, match="DKIM needs"):
        Settings(_env_file=None, environment="development", dkim_selector="mail")
    with pytest.raises(ValueError, match="single line"):
        Settings(_env_file=None, environment="development", feedback_id="x\r\nBcc: y")
