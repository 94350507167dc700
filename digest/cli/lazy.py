"""Commands loaded when they are used.

The command modules pull in SQLAlchemy, Celery, lxml and the rest (about a second);
`digest --help` and `digest --version` need none of it. The root group knows each
command's module and one-line help, and imports a module only to run, or show the help
of, one of its commands. tests/test_cli_startup.py checks this table against the modules.
"""

from __future__ import annotations

import importlib
from typing import Any, NamedTuple

import typer
from typer.core import TyperCommand, TyperGroup


class Entry(NamedTuple):
    modules: tuple[str, ...]  # under digest.cli; they register the command on the app
    help: str


COMMANDS = {
    "demo": Entry(("demo",), "Set up the sample data and run one full cycle in-process (SQLite, outbox directory)."),
    "ingest": Entry(("ingest",), "Fetch all due sources (queued with a broker), one source, or a local feed file."),
    "serve": Entry(("serve",), "Serve the web app."),
    "worker": Entry(("processes",), "Run a Celery worker for this deployment (DIGEST_BROKER_URL, DIGEST_CELERY_QUEUE)."),
    "beat": Entry(("processes",), "Run the Celery beat scheduler (config/beat.toml); run exactly one."),
    "summarize": Entry(("summarize",), "Print the title and the summary of an article page, as the curator would write it."),
    "bounces": Entry(("bounces", "bounce_intake"), "Read bounces, complaints and unsubscribe mails."),
    "check": Entry(("check",), "Check the database and its schema, the broker and Redis, and the relay or outbox."),
    "db": Entry(("db",), "Database schema."),
    "editions": Entry(("editions", "render"), "Build, inspect, shape and approve editions."),
    "lists": Entry(("lists",), "Lists (newsletters) and their curation rules."),
    "send": Entry(("send",), "Start, watch, pause, resume, cancel and retry sends."),
    "sources": Entry(("sources",), "Feed sources and their health."),
    "subscribers": Entry(("subscribers",), "Import, export, suppress and unsuppress subscribers."),
    "users": Entry(("users",), "Staff accounts (editors, ops, admins)."),
}


def load(name: str) -> Any:
    """The real command (or group) `name`, its modules imported."""
    from digest.cli.common import app
    for module in COMMANDS[name].modules:
        importlib.import_module(f"digest.cli.{module}")
    return typer.main.get_command(app).commands.get(name)


class LazyGroup(TyperGroup):
    _listing = False

    def list_commands(self, ctx: typer.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: typer.Context, name: str) -> Any:
        if name not in COMMANDS:
            return None
        if self._listing:
            return TyperCommand(name, help=COMMANDS[name].help)
        return load(name)

    def format_help(self, ctx: typer.Context, formatter: Any) -> None:
        # Listing the commands asks for each one: the table answers, nothing is imported.
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False
