"""What every command module shares: the root app, how to print and how to fail."""

from __future__ import annotations

from typing import NoReturn

import typer

from digest import logs
from digest.ingest.clean import inert_text

# Locals in tracebacks could print secrets (settings, tokens): keep them out.
app = typer.Typer(
    help="Newsletter curation and email digest service. With DIGEST_BROKER_URL set, commands "
         "that do pipeline work enqueue Celery tasks; without it they run in-process.",
    no_args_is_help=True, add_completion=False, pretty_exceptions_show_locals=False)


@app.callback()
def _logging() -> None:
    # Log lines go to stderr (DIGEST_LOG_LEVEL, DIGEST_LOG_FORMAT); stdout is the output.
    logs.configure()


def say(message: str = "", *, err: bool = False, nl: bool = True) -> None:
    """Print a line: every line the CLI prints goes through here.

    Titles, names, addresses and error texts come from feeds, files, relays and people.
    Ingest cleans what it stores, but rows written before it did, and text typed by an
    editor, could still carry escape sequences (an OSC 52 writes the terminal's clipboard):
    none of them reaches the terminal."""
    typer.echo(inert_text(message), err=err, nl=nl)


def fail(message: str) -> NoReturn:
    """A one-line error on stderr and exit status 1: never a traceback for expected failures."""
    typer.secho(f"error: {inert_text(message)}", fg="red", err=True)
    raise typer.Exit(1)
