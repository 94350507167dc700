"""Real servers and processes for the chaos suite, each on a free loopback port and each
its own, so that killing or restarting one disturbs nothing else on the machine:

- :class:`Postgres`: a cluster made with the machine's ``initdb`` in a temporary directory
  and run with ``pg_ctl`` (as the ``postgres`` user when we are root: initdb refuses root);
- :class:`Redis`: a ``redis-server`` without persistence (a restart loses every key and
  every queued task, as a crashed Redis without AOF does);
- :class:`CeleryProcess`: a Celery worker or beat started from the project's code.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from digest import PROJECT_ROOT


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_port(port: int, timeout: float = 30, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode} before listening on {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


def postgres_bin(name: str) -> str:
    """The machine's PostgreSQL program (Debian keeps them in /usr/lib/postgresql/N/bin)."""
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
    path = found[0] if found else shutil.which(name)
    if not path:
        raise RuntimeError(f"{name} not found: install PostgreSQL (Debian: apt-get install postgresql)")
    return path


class Postgres:
    """A PostgreSQL cluster of our own, trust auth, listening on 127.0.0.1:port only."""

    def __init__(self, root: Path):
        self.root = root
        self.data = root / "pgdata"
        self.port = free_port()
        self.log = root / "postgres.log"
        self._user = None
        if os.geteuid() == 0:
            self._user = "postgres"
            pwd.getpwnam(self._user)  # KeyError: there is no postgres user to run it as

    def _run(self, *args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess:
        command = list(args)
        if self._user:
            command = ["runuser", "-u", self._user, "--", *command]
        return subprocess.run(command, check=check, capture_output=True, text=True, timeout=timeout,
                              cwd=self.root)

    def init(self) -> None:
        if self._user:
            entry = pwd.getpwnam(self._user)
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
        self._run(postgres_bin("initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres",
                  "-E", "UTF8", "--no-sync")
        self.start()

    def start(self) -> None:
        options = (f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} "
                   "-c max_connections=200 -c shared_buffers=64MB")
        self._run(postgres_bin("pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", options,
                  "-w", "-t", "60", "start")

    def stop(self, mode: str = "fast") -> None:
        """`immediate` is a crash: no checkpoint, the next start recovers from the WAL."""
        self._run(postgres_bin("pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop",
                  check=False)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"


class Redis:
    """redis-server on its own port, no RDB snapshots, no AOF."""

    def __init__(self, root: Path):
        self.root = root
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        self.log = root / "redis.log"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if not binary:
            raise RuntimeError("redis-server not found (Debian: apt-get install redis-server)")
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.root), "--logfile", str(self.log)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(self.port, process=self.process)

    def kill(self) -> None:
        """SIGKILL: whatever it held is gone (no persistence)."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"


def children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as listing:
            return [int(p) for p in listing.read().split()]
    except FileNotFoundError:
        return []


class CeleryProcess:
    """`celery -A APP worker|beat ...` run from the project's root (so the project's code is
    what runs), its output in a log file."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path, ready: bytes):
        self.log = log
        self._file = open(log, "ab")
        self.process = subprocess.Popen([sys.executable, "-m", "celery", *args], cwd=PROJECT_ROOT, env=env,
                                        stdout=self._file, stderr=subprocess.STDOUT)
        self._ready = ready

    @classmethod
    def worker(cls, env: dict[str, str], log: Path, concurrency: int, name: str) -> CeleryProcess:
        return cls(["-A", "digest.worker", "worker", "--loglevel=INFO", f"--concurrency={concurrency}",
                    "-Q", env["DIGEST_CELERY_QUEUE"], "-n", f"{name}@%h",
                    "--without-gossip", "--without-mingle", "--without-heartbeat"],
                   env, log, b"ready.")

    @classmethod
    def beat(cls, env: dict[str, str], log: Path, schedule: Path) -> CeleryProcess:
        return cls(["-A", "tests.chaos.beat", "beat", "--loglevel=INFO", "--max-interval=1",
                    f"--schedule={schedule}"], env, log, b"beat: Starting")

    @property
    def pid(self) -> int:
        return self.process.pid

    def wait_ready(self, timeout: float = 90) -> CeleryProcess:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.log.name} exited: {self.log.read_text(errors='replace')[-3000:]}")
            if self._ready in self.log.read_bytes():
                return self
            time.sleep(0.2)
        raise RuntimeError(f"{self.log.name} not ready: {self.log.read_text(errors='replace')[-3000:]}")

    def pool(self) -> list[int]:
        return children(self.pid)

    def kill(self) -> None:
        """SIGKILL the pool processes, then the main one: a machine that dies."""
        for pid in [*self.pool(), self.pid]:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.process.wait()

    def stop(self, timeout: float = 20) -> None:
        if self.process.poll() is None:
            pool = self.pool()
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
            for pid in pool:  # a warm shutdown leaves none; a stuck child is killed
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        self._file.close()


def temporary_root() -> Path:
    """A directory for the servers' data, readable by the postgres user."""
    root = Path(tempfile.mkdtemp(prefix="digest-chaos-"))
    root.chmod(0o755)
    return root
