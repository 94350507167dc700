"""The `digest` command: a door into the same service functions the workers and web use.

Each topic has its own module that registers its commands on the shared app.
"""

from digest.cli import db, demo, editions, ingest, send, serve, subscribers  # noqa: F401  (registers commands)
from digest.cli.common import app

__all__ = ["app"]
