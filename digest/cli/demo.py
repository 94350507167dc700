"""`digest demo`: what `make demo` runs."""

from digest.cli.common import app, say
from digest.demo import run_demo
from digest.settings import get_settings


@app.command()
def demo() -> None:
    """Set up the sample data and run one full cycle in-process (SQLite, outbox directory)."""
    run_demo(get_settings(), say)
