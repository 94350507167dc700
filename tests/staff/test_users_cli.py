from typer.testing import CliRunner

from digest.cli import app


def test_users_add_prompts_for_the_password_and_refuses_a_duplicate(tmp_path, monkeypatch):
    from digest import migrate
    from digest.settings import get_settings
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    migrate.upgrade(url)
    monkeypatch.setenv("DIGEST_DATABASE_URL", url)
    get_settings.cache_clear()
    runner = CliRunner()
    try:
        first = runner.invoke(app, ["users", "add", "ed@example.org", "--role", "editor"],
                              input="a long password\na long password\n")
        again = runner.invoke(app, ["users", "add", "ed@example.org", "--role", "ops"],
                              input="a long password\na long password\n")
        listed = runner.invoke(app, ["users", "list"])
    finally:
        get_settings.cache_clear()
    assert first.exit_code == 0, first.output
    assert "added ed@example.org (editor)" in first.output
    assert again.exit_code == 1 and "already has an account" in again.output
    assert "ed@example.org" in listed.output and "editor" in listed.output
