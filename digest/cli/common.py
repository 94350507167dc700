"""What every command module shares: the root app and how to fail."""

from __future__ import annotations

from typing import NoReturn

import typer

# Locals in tracebacks could print secrets (settings, tokens): keep them out.
app = typer.Typer(
    help="Newsletter curation and email digest service. With DIGEST_BROKER_URL set, commands "
         "that do pipeline work enqueue Celery tasks; without it they run in-process.",
    no_args_is_help=True, add_completion=False, pretty_exceptions_show_locals=False)


def fail(message: str) -> NoReturn:
    """A one-line error on stderr and exit status 1: never a traceback for expected failures."""
    typer.secho(f"error: {message}", fg="red", err=True)
    raise typer.Exit(1)
