"""`digest --help` and `--version` import none of the heavy libraries (they cost a second;
bench/README.md has the timing), and the table of lazily loaded commands (digest/cli/lazy.py)
says what the command modules really register."""

import json
import pkgutil
import subprocess
import sys

import typer

import digest.cli
from digest import PROJECT_ROOT
from digest.cli import app
from digest.cli.lazy import COMMANDS, load

HEAVY = ["argon2", "celery", "kombu", "premailer", "trafilatura", "lxml", "sqlalchemy", "sqlmodel",
         "alembic", "fastapi", "uvicorn", "httpx", "pydantic", "feedparser", "nltk", "css_inline",
         "digest.settings", "digest.models"]

PROBE = """
import io, json, sys
from contextlib import redirect_stdout
from digest.cli import app
out = {}
for args in (["--help"], ["--version"]):
    buffer = io.StringIO()
    with redirect_stdout(buffer):
        try:
            app(args, prog_name="digest")
        except SystemExit as exit:
            out[args[0] + " status"] = exit.code
    out[args[0]] = buffer.getvalue()
out["loaded"] = sorted(name for name in %r if name in sys.modules)
print(json.dumps(out))
"""


def test_help_and_version_import_no_heavy_library():
    result = subprocess.run([sys.executable, "-c", PROBE % HEAVY], cwd=PROJECT_ROOT, capture_output=True,
                            text=True, timeout=60, env={"PATH": "/usr/bin:/bin", "COLUMNS": "200"})
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["loaded"] == []
    assert out["--help status"] == out["--version status"] == 0
    for name, entry in COMMANDS.items():
        assert f" {name} " in out["--help"] and entry.help in out["--help"]
    assert out["--version"].strip().startswith("digest 0.")


def _first_paragraph(text: str) -> str:
    return " ".join(text.split("\n\n")[0].split())


def test_the_table_names_every_command_module_and_what_it_registers():
    modules = {m.name for m in pkgutil.iter_modules(digest.cli.__path__)} - {"__main__", "common", "lazy"}
    assert modules == {module for entry in COMMANDS.values() for module in entry.modules}
    for name, entry in COMMANDS.items():
        command = load(name)
        assert command is not None, name
        assert _first_paragraph(command.help) == entry.help, name
    assert set(typer.main.get_command(app).commands) == set(COMMANDS)


def test_a_command_runs_through_the_lazy_table(tmp_path):
    database = tmp_path / "cli.db"
    env = {"PATH": "/usr/bin:/bin", "DIGEST_ENVIRONMENT": "development",
           "DIGEST_DATABASE_URL": f"sqlite:///{database}"}
    result = subprocess.run([sys.executable, "-m", "digest.cli", "db", "upgrade"], cwd=PROJECT_ROOT,
                            capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 0, result.stderr
    assert "database is up to date" in result.stdout and database.exists()
    result = subprocess.run([sys.executable, "-m", "digest.cli", "nonsense"], cwd=PROJECT_ROOT,
                            capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 2 and "nonsense" in result.stderr


def test_worker_and_beat_without_a_broker_name_the_setting():
    env = {"PATH": "/usr/bin:/bin", "DIGEST_ENVIRONMENT": "development"}
    for command in ("worker", "beat"):
        result = subprocess.run([sys.executable, "-m", "digest.cli", command, "--concurrency", "1"],
                                cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60, env=env)
        assert result.returncode == 1
        assert result.stderr == f"error: DIGEST_BROKER_URL is not set: `digest {command}` needs the broker " \
                                "(redis://HOST:6379/0)\n"
