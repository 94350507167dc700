"""The `digest` command: a door into the same service functions the workers and web use.

Each topic has its own module that registers its commands on the shared app.
"""

from digest.cli import (  # noqa: F401  (each module registers its commands)
    bounce_intake, bounces, db, demo, editions, ingest, lists, render, send, serve, sources, subscribers,
    summarize, users,
)
from digest.cli.common import app

__all__ = ["app"]
