"""/healthz, /readyz and `digest check` against real databases, Redis and an SMTP relay,
and the same services when they are down (closed ports), not migrated or not writable."""

import logging

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from digest.cli import app as cli
from digest.settings import get_settings
from digest.web.app import create_app
from tests.conftest import make_settings
from tests.smtp_server import free_port


def closed_port_url(scheme: str) -> str:
    return f"{scheme}://127.0.0.1:{free_port()}/0"


def readyz(settings):
    with TestClient(create_app(settings)) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        return client.get("/readyz")


def test_ready_on_a_migrated_database_with_the_broker_up(tmp_path, database_url, redis_url):
    response = readyz(make_settings(tmp_path, database_url, broker_url=redis_url))
    assert response.status_code == 200
    assert response.json() == {"status": "ready",
                               "checks": {"database": "ok", "schema": "ok", "broker": "ok"}}
    assert response.headers["cache-control"] == "no-store"


@pytest.mark.parametrize("down", ["database", "schema", "broker", "redis"])
def test_not_ready_names_the_failing_check_and_logs_why(tmp_path, sqlite_settings, redis_url, down, caplog):
    overrides = {"broker_url": redis_url}
    if down == "database":
        overrides["database_url"] = closed_port_url("postgresql+psycopg").replace("/0", "/digest")
    elif down == "schema":
        overrides["database_url"] = f"sqlite:///{tmp_path / 'never-migrated.db'}"
    elif down == "broker":
        overrides["broker_url"] = closed_port_url("redis")
    else:
        overrides["redis_url"] = closed_port_url("redis")
    settings = make_settings(tmp_path, sqlite_settings.database_url).model_copy(update=overrides)
    with caplog.at_level(logging.WARNING, logger="digest.web.health"):
        response = readyz(settings)
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "not ready" and body["checks"][down] == "failing"
    assert [name for name, state in body["checks"].items() if state != "ok"] == [down]
    # Hosts and reasons go to the log, not to whoever asks.
    assert "127.0.0.1" not in response.text
    (line,) = [r.getMessage() for r in caplog.records if r.name == "digest.web.health"]
    setting = {"database": "DIGEST_DATABASE_URL", "schema": "digest db upgrade",
               "broker": "DIGEST_BROKER_URL", "redis": "DIGEST_REDIS_URL"}[down]
    assert line.startswith(f"not ready: {down}: ") and setting in line


def test_a_request_that_meets_a_database_outage_gets_503_and_one_log_line(tmp_path, caplog):
    settings = make_settings(tmp_path, closed_port_url("postgresql+psycopg").replace("/0", "/x"))
    with TestClient(create_app(settings)) as client, caplog.at_level(logging.ERROR):
        page = client.get("/subscribe/tech-and-science", headers={"accept": "text/html"})
        api = client.get("/archive/tech-and-science/feed.xml")
    assert page.status_code == 503 and "unavailable for a moment" in page.text
    assert api.status_code == 503 and api.json() == {"detail": "service unavailable, try again later"}
    lines = [r for r in caplog.records if r.name == "digest.web.health"]
    assert len(lines) == 2 and not any(r.exc_info for r in lines)
    assert "GET /subscribe/tech-and-science: cannot use the database" in lines[0].getMessage()
    assert "DIGEST_DATABASE_URL" in lines[0].getMessage()


@pytest.fixture
def check(monkeypatch):
    """`digest check` with the given settings in the environment: (exit code, its output
    without log lines: the checks on stdout, the verdict on stderr, in that order)."""
    def run(**settings):
        for name, value in settings.items():
            monkeypatch.setenv(f"DIGEST_{name.upper()}", str(value))
        get_settings.cache_clear()
        try:
            result = CliRunner().invoke(cli, ["check"])
        finally:
            get_settings.cache_clear()
        verdict = [line for line in result.stderr.splitlines() if line.startswith("not ready")]
        return result.exit_code, "\n".join([*result.stdout.splitlines(), *verdict])
    return run


def test_digest_check_passes_on_postgres_redis_and_a_real_relay(check, postgres_database, redis_url,
                                                                smtp_server):
    code, output = check(database_url=postgres_database, broker_url=redis_url, mail_backend="smtp",
                         smtp_host="127.0.0.1", smtp_port=smtp_server.port)
    assert code == 0, output
    lines = output.splitlines()
    assert [line.split()[:2] for line in lines[:-1]] == [
        ["ok", "database"], ["ok", "schema"], ["ok", "broker"], ["ok", "mail"]]
    assert f"relay 127.0.0.1:{smtp_server.port} answers" in lines[3]
    assert lines[-1] == "all checks pass"
    assert smtp_server.sessions_opened == 1 and smtp_server.messages == []  # EHLO and QUIT only


def test_digest_check_names_what_failed_and_the_setting(check, tmp_path):
    unwritable = tmp_path / "outbox"
    unwritable.write_text("a file where the outbox should be")
    code, output = check(database_url=f"sqlite:///{tmp_path / 'empty.db'}", mail_backend="outbox",
                         outbox_dir=unwritable / "mail", broker_url=closed_port_url("redis"))
    assert code == 1
    failed = {line.split()[1]: line for line in output.splitlines() if line.startswith("FAILED")}
    assert set(failed) == {"schema", "broker", "mail"}
    assert "run `digest db upgrade`" in failed["schema"]
    assert "check DIGEST_BROKER_URL" in failed["broker"]
    assert "check DIGEST_OUTBOX_DIR" in failed["mail"]
    assert output.splitlines()[-1] == "not ready: schema, broker, mail failed"


def test_digest_check_with_the_relay_and_database_down(check, tmp_path):
    relay_port = free_port()
    code, output = check(database_url=closed_port_url("postgresql+psycopg").replace("/0", "/x"),
                         mail_backend="smtp", smtp_host="127.0.0.1", smtp_port=relay_port)
    assert code == 1
    failed = {line.split()[1]: line for line in output.splitlines() if line.startswith("FAILED")}
    assert set(failed) == {"database", "mail"}
    assert "check DIGEST_DATABASE_URL" in failed["database"]
    assert f"cannot connect to 127.0.0.1:{relay_port}" in failed["mail"]
    assert "DIGEST_SMTP_HOST, DIGEST_SMTP_PORT" in failed["mail"]
