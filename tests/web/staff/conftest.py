"""Staff console fixtures: one account per role, a client signed in as any of them, and the
API with a token per role."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from digest.db import get_engine
from digest.sample import load_lists_and_subscribers
from digest.staff.accounts import add_user, create_api_token
from digest.web.app import create_app
from tests.conftest import make_settings

PASSWORD = "a long staff password"
ROLES = ("editor", "ops", "admin")


@pytest.fixture
def staff(web_settings, sqlite_session):
    users = {role: add_user(sqlite_session, email=f"{role}@example.org", password=PASSWORD, role=role)
             for role in ROLES}
    sqlite_session.commit()
    return users


def csrf_from(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def attempt(client: TestClient, email: str, password: str):
    """One try at the sign-in form, as a browser makes it: the form first, then the post."""
    token = csrf_from(client.get("/staff/login").text)
    return client.post("/staff/login", data={"csrf_token": token, "email": email, "password": password,
                                             "next": "/staff/"}, follow_redirects=False)


def sign_in(client: TestClient, role: str) -> str:
    """Sign `client` in as the `role` account; returns the CSRF token of its session's forms."""
    response = attempt(client, f"{role}@example.org", PASSWORD)
    assert response.status_code == 303, response.text
    return csrf_from(client.get("/staff/").text)


def browser_sign_in(page, base: str, role: str) -> None:
    """Sign a Playwright page in as the `role` account through the sign-in form."""
    page.goto(f"{base}/staff/login")
    page.fill("#email", f"{role}@example.org")
    page.fill("#password", PASSWORD)
    page.click("button:has-text('Sign in')")
    page.wait_for_url(f"{base}/staff/")


@pytest.fixture
def signed_in(web_settings, staff):
    """A factory: a new client signed in as a role, with its CSRF token."""
    clients = []

    def make(role: str) -> tuple[TestClient, str]:
        client = TestClient(create_app(web_settings), headers={"Accept": "text/html"})
        clients.append(client)
        return client, sign_in(client, role)

    yield make
    for client in clients:
        client.close()


def make_api(tmp_path, database_url, **overrides):
    """The app over a database with the sample lists and one token per role."""
    with Session(get_engine(database_url)) as session:
        load_lists_and_subscribers(session)
        tokens = {role: create_api_token(session, add_user(session, email=f"{role}@example.org",
                                                           password="x" * 12, role=role), "test")
                  for role in ROLES}
        session.commit()
    settings = make_settings(tmp_path, database_url, fetch_allowed_hosts=["localhost"], **overrides)
    return TestClient(create_app(settings)), {role: {"Authorization": f"Bearer {t}"} for role, t in tokens.items()}
