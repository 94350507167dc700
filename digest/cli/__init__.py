"""The `digest` command: a door into the same service functions the workers and web use.

Each topic has its own module that registers its commands on the shared app; the app
imports a module when one of its commands is used (digest/cli/lazy.py).
"""

from digest.cli.common import app

__all__ = ["app"]
