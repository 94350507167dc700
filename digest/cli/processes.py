"""`digest worker` and `digest beat`: the Celery processes, with the deployment's settings.

Options after the command go to Celery as they are (`digest worker --concurrency 4`,
`digest beat --schedule /var/lib/digest/beat-schedule`); `celery -A digest.worker ...`
is the same thing.
"""

import typer

from digest.cli.common import app, fail

CELERY_OPTIONS = {"allow_extra_args": True, "ignore_unknown_options": True}


def _run(command: str, options: list[str]) -> None:
    from digest.settings import get_settings
    if not get_settings().broker_url:
        fail(f"DIGEST_BROKER_URL is not set: `digest {command}` needs the broker (redis://HOST:6379/0)")
    from digest.worker import app as celery

    raise typer.Exit(celery.start([command, *options]) or 0)


@app.command(context_settings=CELERY_OPTIONS)
def worker(ctx: typer.Context) -> None:
    """Run a Celery worker for this deployment (DIGEST_BROKER_URL, DIGEST_CELERY_QUEUE)."""
    _run("worker", ctx.args)


@app.command(context_settings=CELERY_OPTIONS)
def beat(ctx: typer.Context) -> None:
    """Run the Celery beat scheduler (config/beat.toml); run exactly one."""
    _run("beat", ctx.args)
