"""What every command module shares: the root app, how to print and how to fail."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, NoReturn

import typer

from digest.cli.lazy import LazyGroup
from digest.ingest.clean import inert_text

if TYPE_CHECKING:
    from digest.settings import Settings

_DEBUG = "digest.debug"


class _Root(LazyGroup):
    """The `digest` command. A failure of what it depends on (the database down or not
    migrated, the broker or Redis down, a bad setting) ends any command with a line or two
    naming the setting to check (:func:`digest.diagnose.explain`), unless --debug asks for
    the traceback. Anything else unexpected is a bug and keeps its traceback."""

    def invoke(self, ctx: typer.Context):
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            # The reader went away (`digest ... | head`): stop quietly, without a traceback
            # or another failed write when Python flushes stdout at exit.
            _discard_stdout()
            raise typer.Exit(1) from None
        except Exception as exc:
            if ctx.meta.get(_DEBUG):
                raise
            from digest.diagnose import current_settings, explain

            message = explain(exc, current_settings())
            if message is None:
                raise
            fail_each(message.splitlines())


def _discard_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # not a real file (a test runner's buffer)
        pass


# Locals in tracebacks could print secrets (settings, tokens): keep them out.
app = typer.Typer(
    cls=_Root,
    help="Newsletter curation and email digest service. With DIGEST_BROKER_URL set, commands "
         "that do pipeline work enqueue Celery tasks; without it they run in-process.",
    no_args_is_help=True, add_completion=False, pretty_exceptions_show_locals=False)


def _show_version(wanted: bool) -> None:
    if wanted:
        from importlib.metadata import version

        typer.echo(f"digest {version('digest')}")
        raise typer.Exit()


@app.callback()
def _options(ctx: typer.Context, debug: bool = typer.Option(
        False, "--debug", help="Show the full traceback of an error instead of a short message."),
             _version: bool = typer.Option(False, "--version", is_eager=True, callback=_show_version,
                                           help="Show the version and exit.")) -> None:
    ctx.meta[_DEBUG] = debug
    # Log lines go to stderr (DIGEST_LOG_FORMAT; DIGEST_LOG_LEVEL, else warnings only: the
    # command's own report is on stdout).
    from digest import logs  # here: `digest --help` needs none of it

    logs.configure(unset_level="WARNING")


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


def fail_each(errors: list[str]) -> NoReturn:
    """:func:`fail` with several errors (settings, services), one line each."""
    *first, last = errors
    for error in first:
        typer.secho(f"error: {inert_text(error)}", fg="red", err=True)
    fail(last)


def require_queues(settings: Settings) -> None:
    """With a broker, a command that will queue work first makes sure it can (the broker and
    Redis answer): otherwise it would change the database and then fail to hand work on."""
    from digest.health import queues

    if failed := [check.detail for check in queues(settings) if not check.ok]:
        fail_each(failed)
