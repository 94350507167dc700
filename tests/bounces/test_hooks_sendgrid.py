"""POST /hooks/sendgrid: SendGrid's signed Event Webhook, signed here with a P-256 key
made for the test, its public half configured as SendGrid shows it (base64 DER)."""

from __future__ import annotations

import base64
import json
import time

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from pydantic import ValidationError

from digest.settings import Settings
from tests.bounces.conftest import h

KEY = ec.generate_private_key(ec.SECP256R1())
OTHER_KEY = ec.generate_private_key(ec.SECP256R1())


def verification_key(key) -> str:
    return base64.b64encode(key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)).decode()


def headers(body: bytes, *, key=KEY, timestamp: int | None = None) -> dict:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    signature = key.sign(stamp.encode() + body, ec.ECDSA(hashes.SHA256()))
    return {"Content-Type": "application/json",
            "X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(signature).decode(),
            "X-Twilio-Email-Event-Webhook-Timestamp": stamp}


def event(name: str, email: str, event_id: str, **fields) -> dict:
    return {"email": email, "timestamp": int(time.time()), "event": name, "sg_event_id": event_id,
            "sg_message_id": "14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0",
            "smtp-id": "<digest.7.2@news.example.org>", **fields}


@pytest.fixture
def client(world):
    return world.client(sendgrid_webhook_key=verification_key(KEY))


def post(client, events, **signing):
    body = json.dumps(events).encode()
    return client.post("/hooks/sendgrid", content=body, headers=headers(body, **signing))


BATCH = [
    event("processed", "ada.lovelace@example.com", "ev-processed"),
    event("bounce", "alan.turing@example.com", "ev-bounce", type="bounce", status="5.1.1",
          reason="550 5.1.1 The email account that you tried to reach does not exist."),
    event("bounce", "grace.hopper@example.com", "ev-blocked", type="blocked", status="5.7.1",
          reason="550 5.7.1 Service unavailable; client host blocked using Spamhaus"),
    event("dropped", "katherine.johnson@example.com", "ev-dropped", reason="Bounced Address", status="5.0.0"),
    event("dropped", "edsger@example.com", "ev-dropped-other", reason="Invalid SMTPAPI header"),
    event("deferred", "linus@example.com", "ev-deferred", response="400 try again later", attempt="1"),
    event("spamreport", "hedy.lamarr@example.com", "ev-spam"),
    event("unsubscribe", "donald.knuth@example.com", "ev-unsub"),
    event("group_unsubscribe", "radia.perlman@example.com", "ev-group-unsub", asm_group_id=1),
    event("open", "ada.lovelace@example.com", "ev-open"),
]


def test_a_signed_batch_is_recorded_once_per_event(world, client):
    answer = post(client, BATCH)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"ok": True, "events": 6}
    rows, suppressed = world.snapshot()
    assert [(kind, hashed, source, key) for kind, hashed, source, key, _ in rows] == [
        ("hard", h("alan.turing@example.com"), "sendgrid", "sendgrid:ev-bounce"),
        ("soft", h("grace.hopper@example.com"), "sendgrid", "sendgrid:ev-blocked"),
        ("hard", h("katherine.johnson@example.com"), "sendgrid", "sendgrid:ev-dropped"),
        ("complaint", h("hedy.lamarr@example.com"), "sendgrid", "sendgrid:ev-spam"),
        ("unsubscribe", h("donald.knuth@example.com"), "sendgrid", "sendgrid:ev-unsub"),
        ("unsubscribe", h("radia.perlman@example.com"), "sendgrid", "sendgrid:ev-group-unsub"),
    ]
    assert rows[0][4] == "5.1.1"
    assert suppressed == {h("alan.turing@example.com"): "bounce", h("katherine.johnson@example.com"): "bounce",
                          h("hedy.lamarr@example.com"): "complaint",
                          # an unsubscribe without a list leaves every list (docs/deliverability.md)
                          h("donald.knuth@example.com"): "unsubscribed",
                          h("radia.perlman@example.com"): "unsubscribed"}
    # SendGrid retries a batch it got no 2xx for: a second delivery counts nothing twice.
    assert post(client, BATCH).status_code == 200
    assert world.snapshot() == (rows, suppressed)


@pytest.mark.parametrize("reason, status, kind", [
    ("552 5.2.2 Mailbox full", "5.2.2", "soft"),
    ("550 5.7.1 Message rejected as spam", "5.7.1", "soft"),
    ("421 4.7.0 Try again later", "4.7.0", "soft"),
    ("550 Requested action not taken: mailbox unavailable", "5.0.0", "hard"),
    ("", "5.1.1", "hard"),
])
def test_a_bounce_is_hard_only_when_the_reply_says_the_mailbox_is_gone(sqlite_world, reason, status, kind):
    client = sqlite_world.client(sendgrid_webhook_key=verification_key(KEY))
    assert post(client, [event("bounce", "linus@example.com", "ev-1", type="bounce",
                               status=status, reason=reason)]).status_code == 200
    assert sqlite_world.kinds() == [(kind, h("linus@example.com"))]


def forgeries(body: bytes) -> dict[str, dict]:
    good = headers(body)
    return {
        "signed by another key": headers(body, key=OTHER_KEY),
        "body changed after signing": headers(body.replace(b"alan.turing", b"ada.lovelace")),
        "timestamp changed after signing": {**good, "X-Twilio-Email-Event-Webhook-Timestamp":
                                            str(int(good["X-Twilio-Email-Event-Webhook-Timestamp"]) + 1)},
        "no signature": {k: v for k, v in good.items() if "Signature" not in k},
        "no timestamp": {k: v for k, v in good.items() if "Timestamp" not in k},
        "signature not base64": {**good, "X-Twilio-Email-Event-Webhook-Signature": "%%%"},
        "signed 11 minutes ago": headers(body, timestamp=int(time.time()) - 660),
        "signed 11 minutes ahead": headers(body, timestamp=int(time.time()) + 660),
        "timestamp not a number": {**good, "X-Twilio-Email-Event-Webhook-Timestamp": "yesterday"},
    }


CASES = list(forgeries(b""))


@pytest.mark.parametrize("case", CASES)
def test_a_forged_old_or_unsigned_post_is_refused_and_changes_nothing(world, client, case):
    body = json.dumps([event("bounce", "alan.turing@example.com", "ev-x", type="bounce",
                             status="5.1.1", reason="550 5.1.1 unknown")]).encode()
    before = world.snapshot()
    answer = client.post("/hooks/sendgrid", content=body, headers=forgeries(body)[case])
    assert answer.status_code == 401, answer.text
    assert answer.json()["detail"]
    assert world.snapshot() == before


@pytest.mark.parametrize("events, named", [
    ({"event": "bounce"}, "not a JSON array"),
    ([event("bounce", "alan.turing@example.com", "ev-1", type="bounce"), "oops"], "SendGrid event 2: not an object"),
    ([{"event": "spamreport", "email": "hedy.lamarr@example.com"}], "'sg_event_id'"),
    ([{"event": "bounce", "sg_event_id": "x"}], "'email'"),
])
def test_a_signed_but_malformed_batch_is_a_400_and_records_none_of_it(world, client, events, named):
    # The good events before a bad one are not recorded either: the batch comes again whole.
    batch = [event("spamreport", "hedy.lamarr@example.com", "ev-good")]
    batch = batch + events if isinstance(events, list) else events
    answer = post(client, batch)
    assert answer.status_code == 400
    assert named in answer.json()["detail"]
    assert world.snapshot() == ([], {})


def test_a_body_that_is_not_json_is_a_400(sqlite_world):
    client = sqlite_world.client(sendgrid_webhook_key=verification_key(KEY))
    body = b"\xff not json"
    answer = client.post("/hooks/sendgrid", content=body, headers=headers(body))
    assert answer.status_code == 400
    assert "not JSON" in answer.json()["detail"]


def test_the_door_is_closed_without_a_key(sqlite_world):
    answer = post(sqlite_world.client(), BATCH)
    assert answer.status_code == 404
    assert sqlite_world.snapshot() == ([], {})


@pytest.mark.parametrize("value, says", [
    ("not base64!", "base64 DER public key"),
    (base64.b64encode(b"random bytes").decode(), "base64 DER public key"),
    (verification_key(ec.generate_private_key(ec.SECP384R1())), "P-256"),
])
def test_a_key_that_is_not_sendgrids_kind_is_refused_at_start(value, says):
    with pytest.raises(ValidationError, match=f"sendgrid_webhook_key(.|\n)*{says}"):
        Settings(_env_file=None, sendgrid_webhook_key=value)


def test_a_status_field_keeps_only_an_enhanced_code(world, client):
    # Stored in a short column: whatever else a provider puts there must not break the row.
    assert post(client, [event("bounce", "linus@example.com", "ev-1", type="bounce",
                               status="see the reason for the status of this bounce",
                               reason="550 5.1.1 no such user")]).status_code == 200
    assert [row[4] for row in world.snapshot()[0]] == ["5.1.1"]


def test_an_event_id_too_long_to_keep_is_a_400(sqlite_world):
    client = sqlite_world.client(sendgrid_webhook_key=verification_key(KEY))
    answer = post(client, [event("spamreport", "hedy.lamarr@example.com", "x" * 300)])
    assert answer.status_code == 400
    assert "longer than 200" in answer.json()["detail"]
