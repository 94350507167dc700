"""Sign-in, the session cookie, CSRF and the failed-login limits."""

import base64
import zlib

from fastapi.testclient import TestClient

from digest.staff.accounts import set_password
from digest.web.app import create_app
from tests.web.staff.conftest import PASSWORD, attempt

HTML = {"Accept": "text/html"}


def set_cookies(response) -> dict[str, str]:
    return {h.split("=", 1)[0]: h for h in response.headers.get_list("set-cookie")}


def test_the_session_cookie_is_httponly_and_samesite(web_settings, staff):
    with TestClient(create_app(web_settings)) as client:
        response = attempt(client, "editor@example.org", PASSWORD)
    cookie = set_cookies(response)["digest_staff"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert "Max-Age=43200" in cookie  # sessions expire (12 hours by default)


def test_on_https_the_cookies_cannot_be_planted_from_a_sibling_host(web_settings, staff):
    # The __Host- prefix: a browser takes such a cookie only from this very host, over https,
    # for Path=/ and with no Domain, so a page on another subdomain cannot toss one in.
    settings = web_settings.model_copy(update={"public_url": "https://testserver"})
    with TestClient(create_app(settings), base_url="https://testserver") as client:
        form = client.get("/staff/login")
        response = attempt(client, "editor@example.org", PASSWORD)
        assert response.status_code == 303
        assert client.get("/staff/", follow_redirects=False).status_code == 200
    cookies = {**set_cookies(form), **set_cookies(response)}
    assert {"__Host-digest_csrf", "__Host-digest_staff", "__Host-digest_device"} <= cookies.keys()
    for name, cookie in cookies.items():
        if name.startswith("__Host-"):
            assert "Secure" in cookie and "Path=/;" in cookie + ";" and "Domain" not in cookie, cookie


def _readable(cookie: str) -> list[str]:
    """The cookie and every part of it decoded as base64 (and inflated), as anyone can."""
    texts = [cookie]
    for part in cookie.split("."):
        try:
            raw = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
        except ValueError:
            continue
        try:
            raw = zlib.decompress(raw)
        except zlib.error:
            pass
        texts.append(raw.decode("latin-1"))
    return texts


def test_the_session_cookie_holds_nothing_of_the_password_hash(signed_in, staff, sqlite_session):
    client, _ = signed_in("editor")
    sqlite_session.refresh(staff["editor"])
    secret_part = staff["editor"].password_hash.rsplit("$", 2)[-2:]  # salt and digest
    pieces = {text[i:i + 8] for text in secret_part for i in range(len(text) - 7)}
    readable = _readable(client.cookies["digest_staff"])
    assert not [p for p in pieces if any(p in text for text in readable)]


def test_a_kept_session_cookie_is_dead_after_logout(web_settings, signed_in):
    client, token = signed_in("editor")
    kept = {"digest_staff": client.cookies["digest_staff"]}  # as a thief or a shared machine keeps it
    assert client.post("/staff/logout", data={"csrf_token": token}, follow_redirects=False).status_code == 303
    with TestClient(create_app(web_settings), cookies=kept, headers=HTML) as replay:
        assert replay.get("/staff/", follow_redirects=False).status_code == 303
        assert replay.get("/api/editions").status_code == 401


def test_a_new_password_ends_every_session_of_the_account(signed_in, staff, sqlite_session):
    editor, _ = signed_in("editor")
    ops, _ = signed_in("ops")
    set_password(sqlite_session, staff["editor"], "another long password")
    sqlite_session.commit()
    assert editor.get("/staff/", follow_redirects=False).status_code == 303
    assert ops.get("/staff/", follow_redirects=False).status_code == 200


def test_a_form_post_without_the_csrf_token_is_refused(signed_in):
    client, _ = signed_in("editor")
    response = client.post("/staff/editions/1/approve", data={}, follow_redirects=False)
    assert response.status_code == 403
    response = client.post("/staff/logout", data={"csrf_token": "forged"}, follow_redirects=False)
    assert response.status_code == 403


def test_a_csrf_cookie_and_field_chosen_by_an_attacker_are_refused(signed_in):
    client, _ = signed_in("editor")
    # Cookie tossing: a page on a sibling subdomain sets the CSRF cookie to a value of its
    # choosing, then posts a form carrying the same value.
    client.cookies.delete("digest_csrf")
    client.cookies.set("digest_csrf", "chosen-by-the-attacker")
    tossed = client.post("/staff/editions/1/approve", data={"csrf_token": "chosen-by-the-attacker"},
                         follow_redirects=False)
    assert tossed.status_code == 403
    assert client.post("/api/editions/1/approve",
                       headers={"X-CSRF-Token": "chosen-by-the-attacker"}).status_code == 403


def test_a_csrf_token_works_only_with_its_own_session(signed_in):
    victim, own = signed_in("editor")
    _, other = signed_in("admin")
    assert victim.post("/staff/editions/1/approve", data={"csrf_token": other},
                       follow_redirects=False).status_code == 403
    assert victim.post("/staff/editions/1/approve", data={"csrf_token": own},
                       follow_redirects=False).status_code == 303


def test_a_cookie_session_needs_the_csrf_header_to_write_through_the_api(signed_in):
    client, token = signed_in("editor")
    assert client.post("/api/editions/1/approve").status_code == 403
    assert client.post("/api/editions/1/approve", headers={"X-CSRF-Token": token}).status_code == 404


def test_wrong_passwords_are_limited_and_do_not_reveal_accounts(web_settings, staff):
    with TestClient(create_app(web_settings), headers=HTML) as client:
        answers = [attempt(client, email, "wrong") for email in ["editor@example.org", "nobody@example.org"]]
        assert [a.status_code for a in answers] == [401, 401]
        assert answers[0].text.count("do not match") == answers[1].text.count("do not match") == 1
        statuses = [attempt(client, "editor@example.org", "wrong").status_code for _ in range(12)]
        assert statuses[-1] == 429
        # Even the right password waits once the limit is reached.
        assert attempt(client, "editor@example.org", PASSWORD).status_code == 429


def test_wrong_passwords_from_one_address_do_not_lock_the_account_out_elsewhere(web_settings, staff):
    app = create_app(web_settings)
    with TestClient(app, client=("203.0.113.66", 40000)) as attacker, \
            TestClient(app, client=("198.51.100.7", 40000)) as admin:
        statuses = [attempt(attacker, "admin@example.org", "wrong").status_code for _ in range(12)]
        assert statuses[-1] == 429
        assert attempt(admin, "admin@example.org", PASSWORD).status_code == 303


def test_one_address_trying_many_accounts_is_stopped(web_settings, staff):
    with TestClient(create_app(web_settings), client=("203.0.113.66", 40000)) as sprayer:
        statuses = [attempt(sprayer, f"guess{n}@example.org", "wrong").status_code for n in range(40)]
    assert statuses[0] == 401 and statuses[-1] == 429


def test_many_addresses_guessing_one_password_are_stopped_but_a_known_browser_gets_in(web_settings, staff):
    settings = web_settings.model_copy(update={"staff_login_limit_per_account": "20 per hour"})
    app = create_app(settings)
    with TestClient(app, client=("192.0.2.10", 40000)) as known:
        assert attempt(known, "admin@example.org", PASSWORD).status_code == 303  # signed in here before
        for n in range(25):
            with TestClient(app, client=(f"203.0.113.{n}", 40000)) as bot:
                attempt(bot, "admin@example.org", "wrong")
        with TestClient(app, client=("198.51.100.9", 40000)) as new_browser:
            assert attempt(new_browser, "admin@example.org", PASSWORD).status_code == 429
        assert attempt(known, "admin@example.org", PASSWORD).status_code == 303


def test_logout_ends_the_session(signed_in):
    client, token = signed_in("editor")
    assert client.get("/staff/", follow_redirects=False).status_code == 200
    client.post("/staff/logout", data={"csrf_token": token}, follow_redirects=False)
    assert client.get("/staff/", follow_redirects=False).status_code == 303
