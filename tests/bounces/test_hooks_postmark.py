"""POST /hooks/postmark: Postmark's webhooks, authenticated by the HTTP Basic credentials
its webhook URL carries (Postmark signs nothing)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from digest.settings import Settings
from tests.bounces.conftest import h

USER, PASSWORD = "postmark", "s3cret-and-long-enough"


@pytest.fixture
def client(world):
    return world.client(postmark_webhook_user=USER, postmark_webhook_password=PASSWORD)


def bounce(email: str, bounce_type: str, bounce_id: int, details: str = "", **fields) -> dict:
    return {"RecordType": "Bounce", "ID": bounce_id, "Type": bounce_type, "TypeCode": 1,
            "Name": bounce_type, "MessageID": "883953f4-6105-42a2-a16a-77a8eac79483",
            "Description": "The server was unable to deliver your message.", "Details": details,
            "Email": email, "From": "daily@news.example.org", "BouncedAt": "2026-12-02T07:00:00Z",
            "Inactive": True, "CanActivate": True, "Subject": "Today", "MessageStream": "outbound",
            **fields}


def change(email: str, suppress: bool, reason: str | None) -> dict:
    return {"RecordType": "SubscriptionChange", "MessageID": "883953f4-6105-42a2-a16a-77a8eac79483",
            "ServerID": 23, "MessageStream": "outbound", "ChangedAt": "2026-12-02T07:05:00Z",
            "Recipient": email, "Origin": "Recipient", "SuppressSending": suppress,
            "SuppressionReason": reason, "Tag": "", "Metadata": {}}


def test_each_record_type_is_recorded_once(world, client):
    records = [
        bounce("alan.turing@example.com", "HardBounce", 101, "smtp;550 5.1.1 The email account does not exist"),
        bounce("grace.hopper@example.com", "SoftBounce", 102, "smtp;452 4.2.2 mailbox full"),
        bounce("linus@example.com", "AutoResponder", 103, "I am away until Monday"),
        {**bounce("hedy.lamarr@example.com", "SpamComplaint", 104), "RecordType": "SpamComplaint"},
        change("donald.knuth@example.com", True, "ManualSuppression"),
        change("radia.perlman@example.com", False, None),
        {"RecordType": "Delivery", "Recipient": "ada.lovelace@example.com", "MessageID": "x"},
    ]
    for record in records:
        answer = client.post("/hooks/postmark", json=record, auth=(USER, PASSWORD))
        assert answer.status_code == 200, answer.text
    rows, suppressed = world.snapshot()
    assert rows == [
        ("hard", h("alan.turing@example.com"), "postmark", "postmark:101", "5.1.1"),
        ("soft", h("grace.hopper@example.com"), "postmark", "postmark:102", "4.2.2"),
        ("complaint", h("hedy.lamarr@example.com"), "postmark", "postmark:104", None),
        ("unsubscribe", h("donald.knuth@example.com"), "postmark",
         "postmark:change:883953f4-6105-42a2-a16a-77a8eac79483:2026-12-02T07:05:00Z", None),
    ]
    assert suppressed == {h("alan.turing@example.com"): "bounce", h("hedy.lamarr@example.com"): "complaint",
                          # an unsubscribe without a list leaves every list (docs/deliverability.md)
                          h("donald.knuth@example.com"): "unsubscribed"}
    # Postmark retries a webhook it got no 2xx for: the same record again counts nothing.
    assert client.post("/hooks/postmark", json=records[0], auth=(USER, PASSWORD)).status_code == 200
    assert world.snapshot() == (rows, suppressed)


@pytest.mark.parametrize("bounce_type, details, kind", [
    ("BadEmailAddress", "", "hard"),
    ("HardBounce", "", "hard"),
    # Postmark's HardBounce covers policy blocks too; the remote reply says which.
    ("HardBounce", "smtp;550 5.7.1 Our system has detected that this message is likely spam", "soft"),
    ("Transient", "smtp;421 4.4.2 connection timed out", "soft"),
    ("DnsError", "", "soft"),
    ("Blocked", "smtp;554 blocked by the recipient's provider", "soft"),
    ("ChallengeVerification", "", None),
])
def test_bounce_types_map_to_kinds(sqlite_world, bounce_type, details, kind):
    client = sqlite_world.client(postmark_webhook_user=USER, postmark_webhook_password=PASSWORD)
    answer = client.post("/hooks/postmark", json=bounce("linus@example.com", bounce_type, 7, details),
                         auth=(USER, PASSWORD))
    assert answer.status_code == 200
    assert sqlite_world.kinds() == ([(kind, h("linus@example.com"))] if kind else [])


@pytest.mark.parametrize("reason, kind, suppression", [
    ("HardBounce", "hard", "bounce"), ("SpamComplaint", "complaint", "complaint"),
])
def test_a_suppression_by_postmark_tells_why(sqlite_world, reason, kind, suppression):
    client = sqlite_world.client(postmark_webhook_user=USER, postmark_webhook_password=PASSWORD)
    assert client.post("/hooks/postmark", json=change("linus@example.com", True, reason),
                       auth=(USER, PASSWORD)).status_code == 200
    assert sqlite_world.kinds() == [(kind, h("linus@example.com"))]
    assert sqlite_world.suppression("linus@example.com") == suppression


@pytest.mark.parametrize("auth", [
    None, (USER, "wrong"), ("wrong", PASSWORD), (USER, PASSWORD + "x"), (USER, ""), ("", ""),
])
def test_wrong_or_missing_credentials_are_refused_and_change_nothing(world, client, auth):
    before = world.snapshot()
    answer = client.post("/hooks/postmark", json=bounce("alan.turing@example.com", "HardBounce", 1), auth=auth)
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"].startswith("Basic")
    assert world.snapshot() == before


@pytest.mark.parametrize("header", ["Bearer abc", "Basic not-base64!", "Basic", ""])
def test_a_garbled_authorization_header_is_refused(sqlite_world, header):
    client = sqlite_world.client(postmark_webhook_user=USER, postmark_webhook_password=PASSWORD)
    answer = client.post("/hooks/postmark", json=bounce("alan.turing@example.com", "HardBounce", 1),
                         headers={"Authorization": header})
    assert answer.status_code == 401
    assert sqlite_world.snapshot() == ([], {})


@pytest.mark.parametrize("record, named", [
    ([], "not a JSON object"),
    ({"Type": "HardBounce"}, "'RecordType'"),
    ({**bounce("alan.turing@example.com", "HardBounce", 1), "ID": None}, "'ID'"),
    ({**bounce("alan.turing@example.com", "HardBounce", 1), "Email": "nobody"}, "not an email address"),
])
def test_an_authenticated_but_malformed_record_is_a_400(sqlite_world, record, named):
    client = sqlite_world.client(postmark_webhook_user=USER, postmark_webhook_password=PASSWORD)
    answer = client.post("/hooks/postmark", json=record, auth=(USER, PASSWORD))
    assert answer.status_code == 400
    assert named in answer.json()["detail"]
    assert sqlite_world.snapshot() == ([], {})


def test_the_door_is_closed_without_credentials(sqlite_world):
    answer = sqlite_world.client().post("/hooks/postmark", json=bounce("a@example.com", "HardBounce", 1),
                                        auth=(USER, PASSWORD))
    assert answer.status_code == 404


def test_the_credentials_come_together():
    with pytest.raises(ValidationError, match="DIGEST_POSTMARK_WEBHOOK_PASSWORD"):
        Settings(_env_file=None, postmark_webhook_user=USER)
