"""Tokens through the API: a caller lists and revokes their own (an admin, anyone's), and a
revoked token is refused from the next request on."""

from __future__ import annotations

import pytest

from tests.web.staff.conftest import make_api


@pytest.fixture
def api(tmp_path, database_url):
    client, auth = make_api(tmp_path, database_url)
    with client:
        yield client, auth


def test_each_caller_sees_their_own_tokens_and_an_admin_sees_all(api):
    client, auth = api
    mine = client.get("/api/tokens", headers=auth["editor"])
    assert mine.status_code == 200
    (token,) = mine.json()
    assert token["owner"] == "editor@example.org" and token["name"] == "test" and token["state"] == "active"
    assert token["last_used_at"] is not None and token["expires_at"] is None and token["revoked_at"] is None
    assert not any(value.startswith("dgt_") for value in map(str, token.values()))
    everyone = client.get("/api/tokens", headers=auth["admin"]).json()
    assert sorted(t["owner"] for t in everyone) == ["admin@example.org", "editor@example.org", "ops@example.org"]


def test_revoking_through_the_api(api):
    client, auth = api
    tokens = {t["owner"].split("@")[0]: t["id"] for t in client.get("/api/tokens", headers=auth["admin"]).json()}
    others = client.delete(f"/api/tokens/{tokens['ops']}", headers=auth["editor"])
    assert others.status_code == 404 and others.json() == {"detail": f"no token {tokens['ops']}"}
    assert client.get("/api/editions", headers=auth["ops"]).status_code == 200

    own = client.delete(f"/api/tokens/{tokens['editor']}", headers=auth["editor"])
    assert own.status_code == 200 and own.json()["state"] == "revoked" and own.json()["revoked_at"]
    assert client.get("/api/tokens", headers=auth["editor"]).status_code == 401

    by_admin = client.delete(f"/api/tokens/{tokens['ops']}", headers=auth["admin"])
    assert by_admin.status_code == 200 and by_admin.json()["owner"] == "ops@example.org"
    assert client.get("/api/editions", headers=auth["ops"]).status_code == 401
    assert client.get("/api/editions", headers=auth["admin"]).status_code == 200
