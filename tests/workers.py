"""Real Celery worker processes for tests, started from the project's worker.py."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from digest import PROJECT_ROOT


def digest_env(**settings: str) -> dict[str, str]:
    """The process environment with DIGEST_* settings replaced by `settings`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIGEST_")}
    env.update({f"DIGEST_{k.upper()}": str(v) for k, v in settings.items()})
    return env


@contextmanager
def celery_worker(env: dict[str, str], log_path: Path, concurrency: int = 1, loglevel: str = "INFO"):
    """A `celery -A worker worker` process; stopped (and waited for) when the block ends."""
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "worker", "worker", f"--loglevel={loglevel}",
             f"--concurrency={concurrency}", "-Q", env["DIGEST_CELERY_QUEUE"],
             "--without-gossip", "--without-mingle", "--without-heartbeat"],
            cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            _wait_ready(log_path, process)
            yield process
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_ready(log_path: Path, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"worker exited: {log_path.read_text(errors='replace')[-3000:]}")
        if b"ready." in log_path.read_bytes():
            return
        time.sleep(0.2)
    raise RuntimeError(f"worker not ready: {log_path.read_text(errors='replace')[-3000:]}")


def wait_for(condition, timeout: float = 60, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := condition():
            return result
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s")
