"""`digest bounces`: read the mails that come back (bounces, complaints, unsubscribes)."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from digest.bounces.classify import classify
from digest.cli.common import app, say

bounces_app = typer.Typer(help="Read bounces, complaints and unsubscribe mails.",
                          no_args_is_help=True)
app.add_typer(bounces_app, name="bounces")


@bounces_app.command("classify")
def bounces_classify(
    files: list[Path] = typer.Argument(..., metavar="FILE...",
                                       help="Mail files, or maildirs (their cur/ and new/)."),
) -> None:
    """Print what each mail says, one JSON line per recipient; changes nothing."""
    unreadable = 0
    for path in message_files(files):
        try:
            raw = path.read_bytes()
        except OSError as error:
            say(f"error: {path}: {error.strerror or error}", err=True)
            unreadable += 1
            continue
        for finding in classify(raw):
            say(json.dumps({"file": str(path), "recipient": finding.recipient,
                            "kind": str(finding.kind), "status": finding.status,
                            "reason": finding.reason}, ensure_ascii=False))
    if unreadable:
        raise typer.Exit(1)


def message_files(paths: list[Path]) -> list[Path]:
    """Each file as given; for a maildir, the messages in its cur/ and new/ (sorted)."""
    found = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(entry for sub in ("cur", "new") if (path / sub).is_dir()
                                for entry in (path / sub).iterdir() if entry.is_file()))
        else:
            found.append(path)
    return found
