"""What every hook shares: a size cap on bodies, JSON answers, closed doors, settings."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from pydantic import ValidationError

from digest.settings import Settings
from digest.web.hooks import MAX_BODY_BYTES
from tests.bounces.test_hooks_sendgrid import verification_key

HOOKS = ["/hooks/ses", "/hooks/sendgrid", "/hooks/postmark", "/hooks/mailgun"]
OPEN = dict(ses_topic_arns="arn:aws:sns:eu-west-1:123456789012:digest", mailgun_webhook_key="k" * 32,
            postmark_webhook_user="pm", postmark_webhook_password="pw" * 8,
            sendgrid_webhook_key=verification_key(ec.generate_private_key(ec.SECP256R1())))


@pytest.mark.parametrize("path", HOOKS)
def test_a_body_over_the_cap_is_refused_whether_declared_or_streamed(sqlite_world, path):
    client = sqlite_world.client(**OPEN)
    too_big = b"[" + b" " * MAX_BODY_BYTES + b"]"
    declared = client.post(path, content=too_big)
    assert declared.status_code == 413
    assert str(MAX_BODY_BYTES) in declared.json()["detail"]
    # Without a Content-Length (chunked), the cap holds while reading.
    streamed = client.post(path, content=(too_big[i:i + 65536] for i in range(0, len(too_big), 65536)))
    assert streamed.status_code == 413
    assert sqlite_world.snapshot() == ([], {})


@pytest.mark.parametrize("path", HOOKS)
def test_closed_doors_and_refusals_answer_json_even_to_a_browser(sqlite_world, path):
    browser = {"Accept": "text/html,application/xhtml+xml"}
    closed = sqlite_world.client().post(path, content=b"{}", headers=browser)
    assert (closed.status_code, closed.json()) == (404, {"detail": "Not Found"})
    refused = sqlite_world.client(**OPEN).post(path, content=b"{}", headers=browser)
    assert refused.status_code == 401
    assert refused.headers["content-type"] == "application/json"


def test_a_hook_takes_no_get(sqlite_world):
    assert sqlite_world.client(**OPEN).get("/hooks/mailgun").status_code == 405


def test_topic_arns_come_comma_separated_and_are_checked(monkeypatch):
    monkeypatch.setenv("DIGEST_SES_TOPIC_ARNS", "arn:aws:sns:eu-west-1:123456789012:a, "
                                                "arn:aws:sns:us-east-1:123456789012:b")
    assert Settings(_env_file=None).ses_topic_arns == ["arn:aws:sns:eu-west-1:123456789012:a",
                                                       "arn:aws:sns:us-east-1:123456789012:b"]
    with pytest.raises(ValidationError, match="'digest-feedback' is not an SNS topic ARN"):
        Settings(_env_file=None, ses_topic_arns="digest-feedback")


def test_a_refusal_is_logged_so_a_wrong_key_shows(sqlite_world, caplog):
    client = sqlite_world.client(**OPEN)
    with caplog.at_level("WARNING", logger="digest.web.hooks"):
        assert client.post("/hooks/mailgun", json={"event-data": {}}).status_code == 401
    assert "/hooks/mailgun refused (401): no Mailgun signature" in caplog.text
