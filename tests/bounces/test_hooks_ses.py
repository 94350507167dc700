"""POST /hooks/ses: Amazon SES notifications through SNS, signed with a key and certificate
made here. SNS's hosts are stood in for by an httpx transport that serves the certificate
at an SNS URL and answers subscription confirmations, recording every request, so the
fetcher's own checks (https, an SNS host, the cache) are what the tests exercise."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from digest.bounces.providers.sns import Sns
from tests.bounces.conftest import h

TOPIC = "arn:aws:sns:eu-west-1:123456789012:digest-feedback"
CERT_URL = "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-0123456789abcdef.pem"
SUBSCRIBE_URL = ("https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription"
                 f"&TopicArn={TOPIC}&Token=2336412f37fb687f5d51e6e2425c464de")


def certificate(key: rsa.RSAPrivateKey, *, days: int = 30, start_days_ago: int = 1) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.amazonaws.com")])
    start = datetime.now(UTC) - timedelta(days=start_days_ago)
    return (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(start + timedelta(days=days))
            .sign(key, hashes.SHA256()))


KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
CERT_PEM = certificate(KEY).public_bytes(serialization.Encoding.PEM)
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def signed(message: dict, *, key=KEY) -> dict:
    """`message` signed as SNS signs it: the listed fields, name and value on lines of their
    own, in this order (the AWS guide on verifying SNS message signatures)."""
    if message["Type"] == "Notification":
        names = ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
    else:
        names = ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"]
    canonical = "".join(f"{n}\n{message[n]}\n" for n in names if n in message).encode()
    digest = hashes.SHA1() if message["SignatureVersion"] == "1" else hashes.SHA256()
    return {**message, "Signature": base64.b64encode(key.sign(canonical, padding.PKCS1v15(), digest)).decode()}


def sns(kind: str, body: str, *, version: str = "1", **fields) -> dict:
    message = {"Type": kind, "MessageId": str(uuid.uuid4()), "TopicArn": TOPIC, "Message": body,
               "Timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
               "SignatureVersion": version, "SigningCertURL": CERT_URL,
               "UnsubscribeURL": "https://sns.eu-west-1.amazonaws.com/?Action=Unsubscribe"}
    return {**message, **fields}


def notification(event: dict, **fields) -> dict:
    return sns("Notification", json.dumps(event), **fields)


MAIL = {"timestamp": "2026-12-02T07:00:00.000Z", "source": "bounces+abc123@news.example.org",
        "messageId": "0102018a-ses-own-id", "destination": ["ada.lovelace@example.com"],
        "headersTruncated": False,
        "headers": [{"name": "Message-ID", "value": "<digest.7.1@news.example.org>"}],
        "commonHeaders": {"messageId": "<digest.7.1@news.example.org>", "subject": "Today"}}


def bounce(bounce_type: str, subtype: str, *recipients: dict) -> dict:
    return {"notificationType": "Bounce", "mail": MAIL, "bounce": {
        "bounceType": bounce_type, "bounceSubType": subtype, "bouncedRecipients": list(recipients),
        "timestamp": "2026-12-02T07:00:01.000Z", "feedbackId": "0102018a-feedback"}}


def recipient(address: str, status: str | None = None, diagnostic: str | None = None) -> dict:
    fields = {"emailAddress": address, "action": "failed", "status": status, "diagnosticCode": diagnostic}
    return {k: v for k, v in fields.items() if v is not None}


def complaint(address: str, feedback_type: str | None = "abuse") -> dict:
    body = {"complainedRecipients": [{"emailAddress": address}], "timestamp": "2026-12-02T08:00:00Z",
            "feedbackId": "0102018a-complaint"}
    if feedback_type:
        body["complaintFeedbackType"] = feedback_type
    return {"notificationType": "Complaint", "mail": MAIL, "complaint": body}


class SnsStandIn:
    """Answers for SNS's hosts: the signing certificate and subscription confirmations."""

    def __init__(self, pem: bytes = CERT_PEM) -> None:
        self.pem = pem
        self.requests: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(str(request.url))
        if str(request.url) == CERT_URL:
            return httpx.Response(200, content=self.pem)
        if str(request.url).startswith("https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription"):
            return httpx.Response(200, text="<ConfirmSubscriptionResponse/>")
        return httpx.Response(404)


@pytest.fixture
def aws():
    return SnsStandIn()


def ses_client(world, aws, **settings):
    client = world.client(ses_topic_arns=TOPIC, **settings)
    client.app.state.sns = Sns(httpx.Client(transport=httpx.MockTransport(aws)))
    return client


def post(client, message: dict):
    # SNS posts its JSON as text/plain.
    return client.post("/hooks/ses", content=json.dumps(message),
                       headers={"Content-Type": "text/plain; charset=UTF-8",
                                "x-amz-sns-message-type": message.get("Type", "")})


@pytest.mark.parametrize("version", ["1", "2"])
def test_a_permanent_bounce_is_stored_once_and_suppresses_the_address(world, aws, version):
    client = ses_client(world, aws)
    message = signed(notification(bounce("Permanent", "General", recipient(
        "Ada.Lovelace@example.com", "5.1.1", "smtp; 550 5.1.1 <ada.lovelace@example.com>: user unknown")),
        version=version))

    answer = post(client, message)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"ok": True, "events": 1}
    rows, suppressed = world.snapshot()
    assert rows == [("hard", h("ada.lovelace@example.com"), "ses", f"ses:{message['MessageId']}", "5.1.1")]
    assert suppressed == {h("ada.lovelace@example.com"): "bounce"}

    # SNS delivers at least once: the same message again changes nothing.
    assert post(client, message).status_code == 200
    assert world.snapshot() == (rows, suppressed)
    assert aws.requests == [CERT_URL]  # the certificate is fetched once, then kept


def forgeries():
    good = signed(notification(bounce("Permanent", "NoEmail", recipient("alan.turing@example.com"))))
    tampered = json.loads(good["Message"])
    tampered["bounce"]["bouncedRecipients"][0]["emailAddress"] = "grace.hopper@example.com"
    return {
        "signed by another key": signed(notification(bounce("Permanent", "NoEmail",
                                                            recipient("alan.turing@example.com"))), key=OTHER_KEY),
        "message changed after signing": {**good, "Message": json.dumps(tampered)},
        "no signature": {k: v for k, v in good.items() if k != "Signature"},
        "signature not base64": {**good, "Signature": "not*base64"},
        "unknown signature version": {**good, "SignatureVersion": "3"},
        "version 2 claimed for a version 1 signature": {**good, "SignatureVersion": "2"},
    }


@pytest.mark.parametrize("case", list(forgeries()))
def test_a_forged_notification_is_refused_and_changes_nothing(world, aws, case):
    client = ses_client(world, aws)
    before = world.snapshot()
    answer = post(client, forgeries()[case])
    assert answer.status_code == 401, answer.text
    assert "detail" in answer.json()
    assert world.snapshot() == before


@pytest.mark.parametrize("cert_url", [
    "https://evil.example.com/SimpleNotificationService-0123456789abcdef.pem",
    "https://sns.eu-west-1.amazonaws.com.evil.example.com/cert.pem",
    "http://sns.eu-west-1.amazonaws.com/SimpleNotificationService-0123456789abcdef.pem",
    "https://user@sns.eu-west-1.amazonaws.com/SimpleNotificationService-0123456789abcdef.pem",
    "https://sns.eu-west-1.amazonaws.com:8443/SimpleNotificationService-0123456789abcdef.pem",
    # The right host, but not one of its certificate files.
    "https://sns.eu-west-1.amazonaws.com/?Action=Echo&Text=-----BEGIN%20CERTIFICATE-----",
    "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-0123456789abcdef.pem?x=1",
    "https://sns.eu-west-1.amazonaws.com/other/cert.pem",
])
def test_a_certificate_anywhere_but_on_an_sns_host_is_refused_unfetched(sqlite_world, aws, cert_url):
    # A forger signs with their own key and names their own certificate: never fetched.
    client = ses_client(sqlite_world, aws)
    message = signed(notification(bounce("Permanent", "NoEmail", recipient("alan.turing@example.com")),
                                  SigningCertURL=cert_url))
    answer = post(client, message)
    assert answer.status_code == 401
    assert "SNS" in answer.json()["detail"]
    assert aws.requests == []
    assert sqlite_world.snapshot() == ([], {})


def test_an_expired_or_unreadable_certificate_is_refused(sqlite_world):
    expired = SnsStandIn(certificate(KEY, days=2, start_days_ago=10).public_bytes(serialization.Encoding.PEM))
    client = ses_client(sqlite_world, expired)
    message = signed(notification(bounce("Permanent", "NoEmail", recipient("alan.turing@example.com"))))
    assert post(client, message).status_code == 401
    client.app.state.sns = Sns(httpx.Client(transport=httpx.MockTransport(SnsStandIn(b"<html>no</html>"))))
    answer = post(client, message)
    assert answer.status_code == 401
    assert "no PEM certificate" in answer.json()["detail"]
    assert sqlite_world.snapshot() == ([], {})


@pytest.mark.parametrize("bounce_type, subtype, status, diagnostic, kind", [
    ("Transient", "MailboxFull", "4.2.2", "smtp; 452 4.2.2 mailbox full", "soft"),
    ("Undetermined", "Undetermined", None, None, "soft"),
    # SES calls many refusals permanent; the remote server's reply says it was policy.
    ("Permanent", "General", "5.7.1", "smtp; 550 5.7.1 Message rejected by policy: spam", "soft"),
    ("Permanent", "General", "5.2.2", "smtp; 552 5.2.2 Mailbox full", "soft"),
    ("Permanent", "General", None, "smtp; 550 No such user here", "hard"),
    ("Permanent", "Suppressed", "5.1.1", None, "hard"),
])
def test_bounces_are_judged_by_type_and_reply(sqlite_world, aws, bounce_type, subtype, status, diagnostic, kind):
    client = ses_client(sqlite_world, aws)
    message = signed(notification(bounce(bounce_type, subtype,
                                         recipient("grace.hopper@example.com", status, diagnostic))))
    assert post(client, message).status_code == 200
    assert sqlite_world.kinds() == [(kind, h("grace.hopper@example.com"))]
    assert sqlite_world.suppression("grace.hopper@example.com") == ("bounce" if kind == "hard" else None)


def test_every_bounced_recipient_of_a_notification_counts(sqlite_world, aws):
    client = ses_client(sqlite_world, aws)
    message = signed(notification(bounce("Permanent", "General",
                                         recipient("alan.turing@example.com", "5.1.1", "smtp; 550 5.1.1 unknown"),
                                         recipient('"Linus" <linus@example.com>', "5.1.2", "smtp; 550 5.1.2 host unknown"))))
    assert post(client, message).status_code == 200
    assert sqlite_world.kinds() == [("hard", h("alan.turing@example.com")), ("hard", h("linus@example.com"))]


def test_a_complaint_suppresses_and_not_spam_or_a_delivery_change_nothing(world, aws):
    client = ses_client(world, aws)
    for event in (complaint("hedy.lamarr@example.com", "not-spam"),
                  {"notificationType": "Delivery", "mail": MAIL, "delivery": {"recipients": ["x@example.com"]}}):
        assert post(client, signed(notification(event))).status_code == 200
    assert world.snapshot() == ([], {})
    # A configuration set's event (eventType) reads the same.
    event = complaint("hedy.lamarr@example.com") | {"eventType": "Complaint"}
    del event["notificationType"]
    assert post(client, signed(notification(event))).status_code == 200
    assert world.kinds() == [("complaint", h("hedy.lamarr@example.com"))]
    assert world.suppression("hedy.lamarr@example.com") == "complaint"


def test_a_notification_of_a_topic_not_configured_is_forbidden(sqlite_world, aws):
    # AWS signs every topic's messages, a stranger's too: the topic is what makes it ours.
    client = ses_client(sqlite_world, aws)
    stranger = "arn:aws:sns:eu-west-1:999999999999:not-ours"
    message = signed(notification(bounce("Permanent", "NoEmail", recipient("alan.turing@example.com")),
                                  TopicArn=stranger))
    answer = post(client, message)
    assert answer.status_code == 403
    assert stranger in answer.json()["detail"]
    assert sqlite_world.snapshot() == ([], {})


def confirmation(**fields) -> dict:
    fields = {"SubscribeURL": SUBSCRIBE_URL, "Token": "2336412f37fb687f5d51e6e2425c464de", **fields}
    return signed(sns("SubscriptionConfirmation", f"You have chosen to subscribe to the topic {TOPIC}.",
                      **fields))


def test_a_subscription_is_confirmed_only_when_signed_and_of_our_topic(sqlite_world, aws):
    client = ses_client(sqlite_world, aws)
    forged = {**confirmation(), "SubscribeURL": SUBSCRIBE_URL + "&x=1"}
    assert post(client, forged).status_code == 401
    stranger = confirmation(TopicArn="arn:aws:sns:eu-west-1:999999999999:not-ours")
    assert post(client, stranger).status_code == 403
    assert aws.requests == [CERT_URL]  # verified, never confirmed

    answer = post(client, confirmation())
    assert answer.status_code == 200
    assert answer.json() == {"ok": True, "confirmed": TOPIC}
    assert aws.requests == [CERT_URL, SUBSCRIBE_URL]


def test_a_subscribe_url_that_sns_refuses_is_a_bad_gateway(sqlite_world, aws):
    client = ses_client(sqlite_world, aws)
    elsewhere = "https://sns.eu-west-1.amazonaws.com/?Action=Nothing"
    answer = post(client, confirmation(SubscribeURL=elsewhere))
    assert answer.status_code == 502
    assert "404" in answer.json()["detail"]


@pytest.mark.parametrize("event, named", [
    ("not json at all", "not JSON"),
    (json.dumps({"notificationType": "Bounce", "mail": MAIL, "bounce": {"bounceType": "Permanent"}}),
     "bouncedRecipients"),
    (json.dumps(bounce("Permanent", "General", {"status": "5.1.1"})), "emailAddress"),
    (json.dumps(bounce("Permanent", "General", recipient("no address here"))), "not an email address"),
])
def test_a_signed_but_malformed_notification_is_a_400_naming_the_fault(world, aws, event, named):
    client = ses_client(world, aws)
    answer = post(client, signed(sns("Notification", event)))
    assert answer.status_code == 400
    assert named in answer.json()["detail"]
    assert world.snapshot() == ([], {})


def test_the_door_is_closed_without_configured_topics(sqlite_world, aws):
    client = sqlite_world.client()
    answer = post(client, signed(notification(complaint("hedy.lamarr@example.com"))))
    assert answer.status_code == 404
    assert answer.json() == {"detail": "Not Found"}


@pytest.mark.parametrize("change", [{"Type": "SomethingElse"}, {"MessageId": None}, {"Timestamp": ""}])
def test_a_message_missing_what_sns_signs_cannot_be_verified(sqlite_world, aws, change):
    client = ses_client(sqlite_world, aws)
    message = signed(notification(complaint("hedy.lamarr@example.com")))
    message = {k: v for k, v in {**message, **change}.items() if v is not None}
    answer = post(client, message)
    assert answer.status_code == 401
    assert sqlite_world.snapshot() == ([], {})
