"""The API's description: every operation names the bearer scheme, a 2xx answer with its
fields, and the refusals it can give; only the API is described, not the app's pages."""

from __future__ import annotations

import pytest

from tests.web.staff.conftest import make_api
from tests.web.staff.test_routes import EDITOR_ONLY, OPS_ONLY


@pytest.fixture
def schema(tmp_path, sqlite_settings):
    client, auth = make_api(tmp_path, sqlite_settings.database_url)
    with client:
        assert client.get("/api/openapi.json").status_code == 401
        response = client.get("/api/openapi.json", headers=auth["editor"])
    assert response.status_code == 200
    return response.json()


def resolve(schema: dict, node: dict) -> dict:
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


def operations(schema: dict):
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            yield method.upper(), path, operation


def test_every_operation_declares_the_token_and_an_answer_with_its_fields(schema):
    assert schema["components"]["securitySchemes"] == {"apiToken": {
        "type": "http", "scheme": "bearer", "bearerFormat": "dgt_...",
        "description": "A staff API token, made with `digest users token EMAIL --name NAME`."}}
    found = list(operations(schema))
    assert len(found) >= 22
    for method, path, operation in found:
        where = f"{method} {path}"
        assert path.startswith("/api/"), where
        assert operation["security"] == [{"apiToken": []}], where
        assert "401" in operation["responses"], where
        ok = [(code, r) for code, r in operation["responses"].items() if code.startswith("2")]
        assert ok, where
        for code, response in ok:
            content = response["content"]
            if "application/json" not in content:
                assert content == {"text/csv": {"schema": {"type": "string"}}}, where  # the CSV export
                continue
            body = resolve(schema, content["application/json"]["schema"])
            if body.get("type") == "array":
                body = resolve(schema, body["items"])
            assert body["type"] == "object" and body["properties"], (where, code)
        for code in ("401", "403", "404", "409"):
            if code in operation["responses"]:
                error = operation["responses"][code]["content"]["application/json"]["schema"]
                assert resolve(schema, error)["properties"] == {
                    "detail": {"type": "string", "title": "Detail", "description": "Why, in words meant for a person."}}


def test_operations_limited_to_a_role_document_the_403(schema):
    documented = {(method, path) for method, path, operation in operations(schema) if "403" in operation["responses"]}
    limited = [(m, p) for m, p in EDITOR_ONLY + OPS_ONLY if p.startswith("/api/")]
    assert limited
    for method, concrete_path in limited:
        assert any(method == m and _matches(p, concrete_path.split("?")[0]) for m, p in documented), concrete_path
    for method, path in [("POST", "/api/ingest"), ("POST", "/api/lists/{slug}/editions")]:
        assert (method, path) in documented
    for method, path in [("GET", "/api/editions"), ("GET", "/api/lists"), ("GET", "/api/tokens")]:
        assert (method, path) not in documented


def _matches(template: str, path: str) -> bool:
    parts, concrete = template.split("/"), path.split("/")
    return len(parts) == len(concrete) and all(a == b or a.startswith("{") for a, b in zip(parts, concrete))


def test_the_send_actions_are_an_enumeration(schema):
    steer = schema["paths"]["/api/editions/{edition_id}/send/{action}"]["post"]
    action = next(p for p in steer["parameters"] if p["name"] == "action")
    assert resolve(schema, action["schema"])["enum"] == ["start", "pause", "resume", "cancel", "retry"]
