import pytest
from typer.testing import CliRunner

from digest import migrate
from digest.cli import app
from digest.db import session_scope
from digest.settings import get_settings
from digest.staff.accounts import authenticate, open_session, user_for_session

PASSWORD = "a long password\na long password\n"


@pytest.fixture
def cli_db(tmp_path, monkeypatch):
    """A migrated database the CLI is pointed at; its URL."""
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    migrate.upgrade(url)
    monkeypatch.setenv("DIGEST_DATABASE_URL", url)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


def test_users_add_prompts_for_the_password_and_refuses_a_duplicate(cli_db):
    runner = CliRunner()
    first = runner.invoke(app, ["users", "add", "ed@example.org", "--role", "editor"], input=PASSWORD)
    again = runner.invoke(app, ["users", "add", "ed@example.org", "--role", "ops"], input=PASSWORD)
    listed = runner.invoke(app, ["users", "list"])
    assert first.exit_code == 0, first.output
    assert "added ed@example.org (editor)" in first.output
    assert again.exit_code == 1 and "already has an account" in again.output
    assert "ed@example.org" in listed.output and "editor" in listed.output


def test_users_password_sets_a_new_one_and_ends_the_sessions(cli_db):
    runner = CliRunner()
    runner.invoke(app, ["users", "add", "ed@example.org", "--role", "editor"], input=PASSWORD)
    with session_scope(cli_db) as session:
        signed_in = open_session(session, authenticate(session, "ed@example.org", "a long password"), hours=1)
    short = runner.invoke(app, ["users", "password", "ed@example.org"], input="short\nshort\n")
    changed = runner.invoke(app, ["users", "password", "Ed@example.org"],
                            input="another long password\nanother long password\n")
    nobody = runner.invoke(app, ["users", "password", "nobody@example.org"], input=PASSWORD)
    assert short.exit_code == 1 and "at least 12 characters" in short.output
    assert changed.exit_code == 0, changed.output
    assert nobody.exit_code == 1 and "no staff account" in nobody.output
    with session_scope(cli_db) as session:
        assert authenticate(session, "ed@example.org", "another long password") is not None
        assert user_for_session(session, signed_in) is None
