"""`digest demo`: what `make demo` runs."""

from digest.cli.common import app, fail, say


@app.command()
def demo() -> None:
    """Set up the sample data and run one full cycle in-process (SQLite, outbox directory)."""
    from digest.demo import DemoRefused, demo_settings, run_demo
    try:
        settings, note = demo_settings()
    except DemoRefused as exc:
        fail(str(exc))
    if note:
        say(note)
    run_demo(settings, say)
