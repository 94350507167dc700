"""API tokens from the command line to the API: made with a name and an optional expiry,
listed without their values, refused once expired or revoked."""

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlmodel import select
from typer.testing import CliRunner

from digest.cli import app
from digest.db import session_scope
from digest.models import ApiToken
from digest.settings import get_settings
from digest.staff.accounts import (
    AccountError, add_user, api_token_refusal, create_api_token, find_api_token, parse_expiry, user_for_token,
)
from digest.web.app import create_app
from tests.conftest import make_settings

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize("text, expected", [
    ("12h", NOW + timedelta(hours=12)), ("30d", NOW + timedelta(days=30)), ("8w", NOW + timedelta(weeks=8)),
    ("2026-04-01", datetime(2026, 4, 1, tzinfo=UTC)),
    ("2026-04-01T09:30+02:00", datetime(2026, 4, 1, 7, 30, tzinfo=UTC)),
])
def test_an_expiry_is_a_duration_or_a_date(text, expected):
    assert parse_expiry(text, NOW) == expected


@pytest.mark.parametrize("text, reason", [
    ("30 days", "neither a duration"), ("soon", "neither a duration"), ("2026-02-28", "not in the future"),
    ("0d", "not in the future"),
])
def test_a_bad_or_past_expiry_is_refused_naming_it(text, reason):
    with pytest.raises(AccountError, match=reason) as caught:
        parse_expiry(text, NOW)
    assert str(caught.value).startswith("expires:")


def test_a_name_shared_by_tokens_is_refused_rather_than_guessed(sqlite_session):
    ada = add_user(sqlite_session, email="ada@example.org", password="x" * 12, role="ops")
    bob = add_user(sqlite_session, email="bob@example.org", password="x" * 12, role="ops")
    create_api_token(sqlite_session, ada, "deploy")
    create_api_token(sqlite_session, bob, "deploy")
    with pytest.raises(AccountError, match=r"2 tokens are named 'deploy' \(ids 1, 2\): give the id"):
        find_api_token(sqlite_session, "deploy")
    assert find_api_token(sqlite_session, "deploy", owner=bob).id == 2
    assert find_api_token(sqlite_session, "1").user_id == ada.id
    with pytest.raises(AccountError, match="no token 9"):
        find_api_token(sqlite_session, "9")
    with pytest.raises(AccountError, match="name: 1 to 100 characters"):
        create_api_token(sqlite_session, ada, "  ")


@pytest.fixture
def cli_and_client(tmp_path, database_url, monkeypatch):
    """The CLI and the web app on one database (SQLite and PostgreSQL), with an ops account."""
    monkeypatch.setenv("DIGEST_DATABASE_URL", database_url)
    get_settings.cache_clear()
    with session_scope(database_url) as session:
        add_user(session, email="ops@example.org", password="x" * 12, role="ops")
        add_user(session, email="ed@example.org", password="x" * 12, role="editor")
    with TestClient(create_app(make_settings(tmp_path, database_url))) as client:
        yield CliRunner(), client
    get_settings.cache_clear()


def test_token_lifecycle_create_use_list_expire_revoke(cli_and_client, database_url):
    runner, client = cli_and_client
    made = runner.invoke(app, ["users", "token", "ops@example.org", "--name", "deploy", "--expires", "30d"])
    other = runner.invoke(app, ["users", "token", "ed@example.org", "--name", "preview"])
    assert made.exit_code == 0 and other.exit_code == 0, made.output + other.output
    token, editor_token = made.stdout.strip(), other.stdout.strip()
    assert token.startswith("dgt_") and "\n" not in token  # alone on stdout: T=$(digest users token ...)
    assert "expires" in made.stderr and "never expires" in other.stderr

    def answer(value):
        return client.get("/api/editions", headers={"Authorization": f"Bearer {value}"})

    def status(value):
        return answer(value).status_code

    assert status(token) == 200 and status(editor_token) == 200

    listed = runner.invoke(app, ["users", "tokens"])
    assert listed.exit_code == 0, listed.output
    lines = listed.stdout.splitlines()
    assert len(lines) == 2 and token not in listed.stdout and editor_token not in listed.stdout
    deploy = next(line for line in lines if " deploy " in line)
    assert "ops@example.org" in deploy and "active" in deploy and "last used 20" in deploy
    assert "expires 20" in deploy and "expires never" in next(line for line in lines if "preview" in line)
    only_ops = runner.invoke(app, ["users", "tokens", "ops@example.org"])
    assert "deploy" in only_ops.stdout and "preview" not in only_ops.stdout

    # Expired: the row's expiry moved into the past.
    with session_scope(database_url) as session:
        session.execute(update(ApiToken).where(ApiToken.name == "deploy")
                        .values(expires_at=datetime.now(UTC) - timedelta(minutes=1)))
    expired = answer(token)
    assert expired.status_code == 401 and expired.headers["www-authenticate"] == "Bearer"
    assert expired.json()["detail"].startswith("This API token (deploy) expired at 20")
    assert "expired" in runner.invoke(app, ["users", "tokens", "ops@example.org"]).stdout

    revoked = runner.invoke(app, ["users", "revoke", "preview"])
    assert revoked.exit_code == 0 and "revoked" in revoked.stdout, revoked.output
    assert answer(editor_token).json()["detail"].startswith("This API token (preview) was revoked at 20")
    assert answer("dgt_forged").json()["detail"] == "This API token is not known."
    again = runner.invoke(app, ["users", "revoke", "preview"])
    assert again.exit_code == 1 and "no token named 'preview' that is not revoked" in again.output
    by_id = runner.invoke(app, ["users", "revoke", "2"])
    assert by_id.exit_code == 0 and "was already revoked" in by_id.stdout
    with session_scope(database_url) as session:
        rows = {t.name: t for t in session.exec(select(ApiToken)).all()}
    assert rows["preview"].revoked_at is not None and rows["deploy"].revoked_at is None


def test_a_token_with_a_bad_expiry_or_for_nobody_is_not_made(cli_and_client, database_url):
    runner, _ = cli_and_client
    bad = runner.invoke(app, ["users", "token", "ops@example.org", "--name", "x", "--expires", "yesterday"])
    nobody = runner.invoke(app, ["users", "token", "no@example.org", "--name", "x"])
    assert bad.exit_code == 1 and "expires: 'yesterday'" in bad.output
    assert nobody.exit_code == 1 and "no staff account no@example.org" in nobody.output
    with session_scope(database_url) as session:
        assert session.exec(select(ApiToken)).all() == []


def test_a_disabled_accounts_token_is_refused_and_says_why(sqlite_session):
    user = add_user(sqlite_session, email="ops@example.org", password="x" * 12, role="ops")
    token = create_api_token(sqlite_session, user, "deploy")
    assert user_for_token(sqlite_session, token) is user
    user.active = False
    assert user_for_token(sqlite_session, token) is None
    assert api_token_refusal(sqlite_session, token) == "This API token's account is disabled."
