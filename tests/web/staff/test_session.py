"""Sign-in, the session cookie, CSRF and the failed-login limit."""

from fastapi.testclient import TestClient

from digest.web.app import create_app
from tests.web.staff.conftest import PASSWORD, csrf_from


def test_the_session_cookie_is_httponly_and_samesite(web_settings, staff):
    with TestClient(create_app(web_settings)) as client:
        token = csrf_from(client.get("/staff/login").text)
        response = client.post("/staff/login", data={"csrf_token": token, "email": "editor@example.org",
                                                     "password": PASSWORD}, follow_redirects=False)
    cookie = next(h for h in response.headers.get_list("set-cookie") if h.startswith("digest_staff="))
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert "Max-Age=43200" in cookie  # sessions expire (12 hours by default)


def test_a_form_post_without_the_csrf_token_is_refused(signed_in):
    client, _ = signed_in("editor")
    response = client.post("/staff/editions/1/approve", data={}, follow_redirects=False)
    assert response.status_code == 403
    response = client.post("/staff/logout", data={"csrf_token": "forged"}, follow_redirects=False)
    assert response.status_code == 403


def test_a_cookie_session_needs_the_csrf_header_to_write_through_the_api(signed_in):
    client, token = signed_in("editor")
    assert client.post("/api/editions/1/approve").status_code == 403
    assert client.post("/api/editions/1/approve", headers={"X-CSRF-Token": token}).status_code == 404


def test_wrong_passwords_are_limited_and_do_not_reveal_accounts(web_settings, staff):
    with TestClient(create_app(web_settings), headers={"Accept": "text/html"}) as client:
        token = csrf_from(client.get("/staff/login").text)
        answers = [client.post("/staff/login", data={"csrf_token": token, "email": email, "password": "wrong"})
                   for email in ["editor@example.org", "nobody@example.org"]]
        assert [a.status_code for a in answers] == [401, 401]
        assert answers[0].text.count("do not match") == answers[1].text.count("do not match") == 1
        statuses = [client.post("/staff/login", data={"csrf_token": token, "email": "editor@example.org",
                                                      "password": "wrong"}).status_code for _ in range(12)]
        assert statuses[-1] == 429
        # Even the right password waits once the limit is reached.
        right = client.post("/staff/login", data={"csrf_token": token, "email": "editor@example.org",
                                                  "password": PASSWORD}, follow_redirects=False)
        assert right.status_code == 429


def test_logout_ends_the_session(signed_in):
    client, token = signed_in("editor")
    assert client.get("/staff/", follow_redirects=False).status_code == 200
    client.post("/staff/logout", data={"csrf_token": token}, follow_redirects=False)
    assert client.get("/staff/", follow_redirects=False).status_code == 303
