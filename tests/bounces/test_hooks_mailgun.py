"""POST /hooks/mailgun: Mailgun's JSON webhooks, signed here with a signing key of the
test's (HMAC-SHA256 of timestamp + token); a token is taken once, in Redis when the
deployment has one, else in the web process."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
import uuid

import pytest

from digest.bounces.providers.mailgun import Tokens
from tests.bounces.conftest import h

SIGNING_KEY = "key-" + "7" * 32


def signature(*, key: str = SIGNING_KEY, timestamp: int | None = None, token: str | None = None) -> dict:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    token = token or secrets.token_hex(25)
    digest = hmac.new(key.encode(), (stamp + token).encode(), hashlib.sha256).hexdigest()
    return {"timestamp": stamp, "token": token, "signature": digest}


def failed(recipient: str, severity: str, *, code: int = 550, message: str = "", enhanced: str = "",
           reason: str = "bounce", event_id: str | None = None) -> dict:
    return {"event": "failed", "id": event_id or uuid.uuid4().hex, "timestamp": time.time(),
            "severity": severity, "reason": reason, "recipient": recipient, "log-level": "error",
            "delivery-status": {"code": code, "message": message, "description": "", "enhanced-code": enhanced,
                                "attempt-no": 1},
            "message": {"headers": {"message-id": "digest.7.3@news.example.org", "to": recipient}}}


def simple(name: str, recipient: str) -> dict:
    return {"event": name, "id": uuid.uuid4().hex, "timestamp": time.time(), "recipient": recipient}


def post(client, event: dict, **signing):
    return client.post("/hooks/mailgun", json={"signature": signature(**signing), "event-data": event})


@pytest.fixture
def client(world):
    return world.client(mailgun_webhook_key=SIGNING_KEY)


def test_signed_events_are_recorded_once(world, client):
    bounce = failed("alan.turing@example.com", "permanent", message="5.1.1 The email account does not exist",
                    enhanced="5.1.1", event_id="mg-bounce")
    for event in (bounce,
                  failed("grace.hopper@example.com", "permanent", code=552, enhanced="5.2.2",
                         message="5.2.2 The user's mailbox is full"),
                  failed("linus@example.com", "temporary", code=421, message="4.7.0 try later"),
                  simple("complained", "hedy.lamarr@example.com"),
                  simple("unsubscribed", "donald.knuth@example.com"),
                  simple("delivered", "ada.lovelace@example.com")):
        answer = post(client, event)
        assert answer.status_code == 200, answer.text
    rows, suppressed = world.snapshot()
    assert [(kind, hashed) for kind, hashed, *_ in rows] == [
        ("hard", h("alan.turing@example.com")), ("soft", h("grace.hopper@example.com")),
        ("complaint", h("hedy.lamarr@example.com")), ("unsubscribe", h("donald.knuth@example.com"))]
    assert rows[0][2:] == ("mailgun", "mailgun:mg-bounce", "5.1.1")
    assert suppressed == {h("alan.turing@example.com"): "bounce", h("hedy.lamarr@example.com"): "complaint",
                          # an unsubscribe without a list leaves every list (docs/deliverability.md)
                          h("donald.knuth@example.com"): "unsubscribed"}
    # Mailgun retries with a new token: the same event id counts once.
    assert post(client, bounce).status_code == 200
    assert world.snapshot() == (rows, suppressed)


@pytest.mark.parametrize("event, kind", [
    (failed("linus@example.com", "permanent", message="5.7.1 Rejected by policy: spam", enhanced="5.7.1"), "soft"),
    (failed("linus@example.com", "permanent", code=550, message="Requested action not taken: mailbox unavailable"),
     "hard"),
    (failed("linus@example.com", "permanent", reason="suppress-bounce", code=605,
            message="Not delivering to previously bounced address"), "hard"),
    (failed("linus@example.com", "permanent", reason="suppress-complaint", code=607), "complaint"),
    (failed("linus@example.com", "permanent", reason="old", code=421, message="too old"), "soft"),
    (failed("linus@example.com", "temporary", code=550, message="5.1.1 unknown"), None),
])
def test_failures_are_judged_by_severity_reason_and_reply(sqlite_world, event, kind):
    client = sqlite_world.client(mailgun_webhook_key=SIGNING_KEY)
    assert post(client, event).status_code == 200
    assert sqlite_world.kinds() == ([(kind, h("linus@example.com"))] if kind else [])


def forged_payloads() -> dict[str, dict]:
    good = signature()
    return {
        "signed with another key": signature(key="key-" + "8" * 32),
        "token changed after signing": {**good, "token": good["token"] + "0"},
        "timestamp changed after signing": {**good, "timestamp": str(int(good["timestamp"]) - 1)},
        "signed 11 minutes ago": signature(timestamp=int(time.time()) - 660),
        "signed 11 minutes ahead": signature(timestamp=int(time.time()) + 660),
        "no signature field": {k: v for k, v in good.items() if k != "signature"},
        "timestamp not a number": {**good, "timestamp": "now"},
    }


@pytest.mark.parametrize("case", list(forged_payloads()))
def test_a_forged_or_old_post_is_refused_and_changes_nothing(world, client, case):
    before = world.snapshot()
    answer = client.post("/hooks/mailgun", json={"signature": forged_payloads()[case],
                                                 "event-data": simple("complained", "hedy.lamarr@example.com")})
    assert answer.status_code == 401, answer.text
    assert world.snapshot() == before


def test_an_unsigned_post_is_refused(sqlite_world):
    client = sqlite_world.client(mailgun_webhook_key=SIGNING_KEY)
    answer = client.post("/hooks/mailgun", json={"event-data": simple("complained", "hedy.lamarr@example.com")})
    assert answer.status_code == 401
    assert sqlite_world.snapshot() == ([], {})


def test_a_token_is_taken_once_so_a_captured_signature_carries_no_other_body(sqlite_world):
    # Mailgun signs the token and timestamp, not the body.
    client = sqlite_world.client(mailgun_webhook_key=SIGNING_KEY)
    captured = signature()
    first = client.post("/hooks/mailgun", json={"signature": captured,
                                                "event-data": simple("delivered", "ada.lovelace@example.com")})
    assert first.status_code == 200
    replayed = client.post("/hooks/mailgun", json={"signature": captured,
                                                   "event-data": simple("complained", "ada.lovelace@example.com")})
    assert replayed.status_code == 401
    assert "used before" in replayed.json()["detail"]
    assert sqlite_world.snapshot() == ([], {})


def test_tokens_are_shared_through_redis_by_every_web_process(sqlite_world, redis_url):
    one = sqlite_world.client(mailgun_webhook_key=SIGNING_KEY, redis_url=redis_url,
                              celery_queue=f"hooks-{uuid.uuid4().hex}")
    other = sqlite_world.client(mailgun_webhook_key=SIGNING_KEY, redis_url=redis_url,
                                celery_queue=one.app.state.settings.celery_queue)
    captured = signature()
    assert one.post("/hooks/mailgun", json={"signature": captured, "event-data":
                                            simple("delivered", "ada.lovelace@example.com")}).status_code == 200
    replayed = other.post("/hooks/mailgun", json={"signature": captured, "event-data":
                                                  simple("complained", "ada.lovelace@example.com")})
    assert replayed.status_code == 401
    assert sqlite_world.snapshot() == ([], {})


def test_the_process_memory_forgets_tokens_after_the_window():
    tokens = Tokens(None, "test")
    assert tokens.first_use("abc", now=1000.0)
    assert not tokens.first_use("abc", now=1000.0 + 1199)
    assert tokens.first_use("abc", now=1000.0 + 1201)


@pytest.mark.parametrize("body, named", [
    (b"not json", "not JSON"),
    (b"[1, 2]", "not a JSON object"),
])
def test_a_body_that_is_not_a_json_object_is_a_400(sqlite_world, body, named):
    client = sqlite_world.client(mailgun_webhook_key=SIGNING_KEY)
    answer = client.post("/hooks/mailgun", content=body, headers={"Content-Type": "application/json"})
    assert answer.status_code == 400
    assert named in answer.json()["detail"]


@pytest.mark.parametrize("event, named", [
    (None, "'event-data'"),
    ({**simple("complained", "hedy.lamarr@example.com"), "id": None}, "'id'"),
    ({**simple("complained", "x"), "recipient": "not an address"}, "not an email address"),
    ({"id": "x", "recipient": "hedy.lamarr@example.com"}, "'event'"),
])
def test_a_signed_but_malformed_event_is_a_400(world, client, event, named):
    payload = {"signature": signature()} | ({"event-data": event} if event is not None else {})
    answer = client.post("/hooks/mailgun", json=payload)
    assert answer.status_code == 400
    assert named in answer.json()["detail"]
    assert world.snapshot() == ([], {})


def test_the_door_is_closed_without_a_key(sqlite_world):
    assert post(sqlite_world.client(), simple("complained", "hedy.lamarr@example.com")).status_code == 404
