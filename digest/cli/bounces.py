"""`digest bounces`: what comes back after a mail left (bounces, complaints, unsubscribe mails)."""

import typer

from digest.cli.common import app

bounces_app = typer.Typer(help="Bounces, complaints and unsubscribe mails.", no_args_is_help=True)
app.add_typer(bounces_app, name="bounces")
