"""Real Celery worker processes for tests, started from the project's app (digest.worker)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from digest import PROJECT_ROOT


def digest_env(**settings: str) -> dict[str, str]:
    """The process environment with DIGEST_* settings replaced by `settings` (in development,
    unless they say otherwise: tests use the placeholder secret)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIGEST_")}
    env["DIGEST_ENVIRONMENT"] = "development"
    env.update({f"DIGEST_{k.upper()}": str(v) for k, v in settings.items()})
    return env


@contextmanager
def celery_worker(env: dict[str, str], log_path: Path, concurrency: int = 1, loglevel: str = "INFO"):
    """A `celery -A digest.worker worker` process; stopped (and waited for) when the block ends."""
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "digest.worker", "worker", f"--loglevel={loglevel}",
             f"--concurrency={concurrency}", "-Q", env["DIGEST_CELERY_QUEUE"],
             "--without-gossip", "--without-mingle", "--without-heartbeat"],
            cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_for_log(process, log_path, "ready.")
            yield process
        finally:
            stop(process)


def wait_for_log(process: subprocess.Popen, log: Path, text: str, timeout: float = 60) -> str:
    """The log once `text` is in it; fails if the process exits or the time runs out first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        content = log.read_text(errors="replace")
        if text in content:
            return content
        if process.poll() is not None:
            raise RuntimeError(f"exited with {process.returncode}: {content[-3000:]}")
        time.sleep(0.2)
    raise RuntimeError(f"{text!r} not seen in {log}: {log.read_text(errors='replace')[-3000:]}")


def stop(process: subprocess.Popen, timeout: float = 20) -> None:
    """SIGTERM (a warm shutdown), then SIGKILL if it takes longer than `timeout`."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def wait_for(condition, timeout: float = 60, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := condition():
            return result
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s")
