"""Every route is either explicitly public or refused without the right staff role."""

import pytest

from digest.web.app import create_app

PUBLIC = {
    "/", "/subscribe/{slug}", "/embed/{slug}/subscribe", "/api/lists/{slug}/subscribe",
    "/confirm/{token}", "/unsubscribe/{token}", "/preferences/{token}", "/preferences/{token}/data.json",
    "/preferences/{token}/erase",
    "/r/{reader}/{story}",  # the click redirect: its signed parts are the authority (tests/clicks)
    "/archive/{slug}", "/archive/{slug}/feed.xml", "/archive/{slug}/{edition_id}",
    "/staff/login", "/staff/logout", "/staff/console.js",
    # Provider webhooks: each provider's signature is the authority, tested in tests/bounces.
    "/hooks/ses", "/hooks/sendgrid", "/hooks/postmark", "/hooks/mailgun",
    "/healthz", "/readyz",  # for the load balancer: no detail beyond each check's state
    "/metrics",  # for the scraper: its bearer token (DIGEST_METRICS_TOKEN) is tested in test_metrics
}
# Actions only an editor (or admin) may take, and only ops (or admin).
EDITOR_ONLY = [
    ("POST", "/staff/editions/1/items/1/move"), ("POST", "/staff/editions/1/approve"),
    ("POST", "/staff/editions/1/envelope"), ("POST", "/staff/editions/1/add"),
    ("POST", "/api/editions/1/approve"), ("PATCH", "/api/editions/1/items/1"),
    ("DELETE", "/api/editions/1/items/1"), ("POST", "/api/editions/1/stories"),
    ("POST", "/api/lists/morning-briefing/editions"),
]
OPS_ONLY = [
    ("POST", "/staff/editions/1/send/start"), ("POST", "/staff/editions/1/send/pause"),
    ("POST", "/staff/subscribers/import"), ("GET", "/staff/subscribers"),
    ("GET", "/staff/subscribers/export/morning-briefing"),
    ("POST", "/api/editions/1/send/start"), ("GET", "/api/subscribers?q=a"),
    ("GET", "/api/lists/morning-briefing/subscribers/export"), ("POST", "/api/sources"),
    ("DELETE", "/api/sources/1"), ("POST", "/api/ingest"), ("POST", "/staff/sources/import"),
]


def walk(routes, prefix=""):
    """Every route of the app with its full path, through included routers."""
    for route in routes:
        if hasattr(route, "original_router"):  # FastAPI's lazily included routers
            yield from walk(route.original_router.routes, prefix + route.include_context.prefix)
        else:
            yield prefix + route.path, route


def all_routes(app):
    return [(method, path) for path, route in walk(app.routes)
            for method in sorted(getattr(route, "methods", None) or ["GET"])]


def concrete(path: str) -> str:
    return (path.replace("{edition_id}", "1").replace("{item_id}", "1").replace("{slug}", "morning-briefing")
            .replace("{subscriber_id}", "1").replace("{action}", "start").replace("{token}", "x"))


def test_every_non_public_route_refuses_an_anonymous_caller(web_settings, client):
    routes = [(m, p) for m, p in all_routes(create_app(web_settings)) if p not in PUBLIC]
    assert len(routes) > 30  # the walk found the console and the API
    for method, path in routes:
        for accept in ("text/html", "application/json"):
            response = client.request(method, concrete(path), headers={"Accept": accept},
                                      follow_redirects=False)
            if response.status_code == 303:
                assert response.headers["location"].startswith("/staff/login"), (method, path)
            else:
                assert response.status_code in (401, 403), (method, path, accept, response.status_code)


def test_the_public_set_is_not_stale(web_settings):
    paths = {p for _, p in all_routes(create_app(web_settings))}
    assert PUBLIC <= paths


@pytest.mark.parametrize("method, path", OPS_ONLY)
def test_an_editor_may_not_take_ops_actions(signed_in, method, path):
    client, token = signed_in("editor")
    response = client.request(method, path, data={"csrf_token": token} if method == "POST" else None,
                              headers={"X-CSRF-Token": token}, follow_redirects=False)
    assert response.status_code == 403


@pytest.mark.parametrize("method, path", EDITOR_ONLY)
def test_ops_may_not_take_editor_actions(signed_in, method, path):
    client, token = signed_in("ops")
    response = client.request(method, path, data={"csrf_token": token} if method == "POST" else None,
                              headers={"X-CSRF-Token": token}, follow_redirects=False)
    assert response.status_code == 403


def test_api_tokens_authenticate_scripts_without_cookies(web_settings, staff, sqlite_session, client):
    from digest.staff.accounts import create_api_token
    token = create_api_token(sqlite_session, staff["ops"], "script")
    sqlite_session.commit()
    assert client.get("/api/editions").status_code == 401
    ok = client.get("/api/editions", headers={"Authorization": f"Bearer {token}"})
    assert ok.status_code == 200 and ok.json() == []
    assert client.get("/api/editions", headers={"Authorization": "Bearer dgt_forged"}).status_code == 401
    schema = client.get("/api/openapi.json", headers={"Authorization": f"Bearer {token}"})
    assert "/api/editions/{edition_id}/send/{action}" in schema.json()["paths"]


def test_a_change_or_send_action_nobody_defined_is_not_found(signed_in):
    client, token = signed_in("admin")
    for path in ("/staff/editions/1/items/1/explode", "/staff/editions/1/explode",
                 "/staff/editions/1/send/explode"):
        response = client.post(path, data={"csrf_token": token}, follow_redirects=False)
        assert response.status_code in (404, 422), (path, response.status_code)
