"""CORS for the JSON sign-up: only for DIGEST_SIGNUP_ORIGINS, and only on that endpoint."""

import pytest
from fastapi.testclient import TestClient

from digest.web.app import create_app
from tests.conftest import make_settings

PUBLISHER = "https://news.example.com"
API = "/api/lists/tech-and-science/subscribe"


def preflight(client: TestClient, path: str, origin: str):
    return client.options(path, headers={"Origin": origin, "Access-Control-Request-Method": "POST",
                                         "Access-Control-Request-Headers": "content-type"})


@pytest.fixture
def cors_client(tmp_path, web_settings, smtp_server):
    settings = make_settings(tmp_path, web_settings.database_url, mail_backend="smtp",
                             smtp_port=smtp_server.port, public_url="http://testserver",
                             signup_origins=f"{PUBLISHER}, https://other.example.org:8443")
    with TestClient(create_app(settings)) as client:
        yield client


def test_without_origins_there_are_no_cors_headers(client):
    asked = preflight(client, API, PUBLISHER)
    assert asked.status_code == 405          # no route answers OPTIONS: the browser stops there
    sent = client.post(API, json={"email": "x@example.org"}, headers={"Origin": PUBLISHER})
    assert sent.status_code == 202
    for answer in (asked, sent):
        assert not [h for h in answer.headers if h.startswith("access-control-")]


def test_a_configured_origin_gets_the_preflight_and_the_answer(cors_client, smtp_server):
    asked = preflight(cors_client, API, PUBLISHER)
    assert asked.status_code == 200
    assert asked.headers["access-control-allow-origin"] == PUBLISHER
    assert asked.headers["access-control-allow-methods"] == "POST"
    assert "content-type" in asked.headers["access-control-allow-headers"].lower()
    assert "access-control-allow-credentials" not in asked.headers
    sent = cors_client.post(API, json={"email": "x@example.org"}, headers={"Origin": PUBLISHER})
    assert sent.status_code == 202 and sent.headers["access-control-allow-origin"] == PUBLISHER
    assert "Origin" in sent.headers["vary"]
    other = preflight(cors_client, API, "https://other.example.org:8443")
    assert other.headers["access-control-allow-origin"] == "https://other.example.org:8443"


@pytest.mark.parametrize("origin", ["https://evil.example", "http://news.example.com", "null"])
def test_any_other_origin_gets_no_grant(cors_client, origin):
    asked = preflight(cors_client, API, origin)
    assert asked.status_code == 400 and "access-control-allow-origin" not in asked.headers
    sent = cors_client.post(API, json={"email": "y@example.org"}, headers={"Origin": origin})
    assert "access-control-allow-origin" not in sent.headers


@pytest.mark.parametrize("path", ["/api/lists/tech-and-science/subscribers/export", "/api/editions",
                                  "/subscribe/tech-and-science", "/embed/tech-and-science/subscribe",
                                  "/staff/login", "/api/lists/tech-and-science/subscribe/x"])
def test_no_other_path_gets_cors(cors_client, path):
    asked = preflight(cors_client, path, PUBLISHER)
    plain = cors_client.get(path, headers={"Origin": PUBLISHER})
    for answer in (asked, plain):
        assert "access-control-allow-origin" not in answer.headers
