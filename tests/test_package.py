"""The wheel carries everything a deployment needs. It is built, installed into a fresh
venv in a temporary directory, and every command runs there from a directory outside the
checkout: `--version`, `db upgrade`, `demo`, `serve`, `worker` and `beat`.

Installing the dependencies from an index would take minutes: the fresh venv sees this
test environment's site-packages through a .pth line (a plain path, so no editable install
of the checkout comes with it), and a check proves that they satisfy every requirement
in the wheel's metadata."""

from __future__ import annotations

import ast
import json
import os
import secrets
import socket
import subprocess
import sys
import sysconfig
import time
import tomllib
import uuid
from importlib.metadata import packages_distributions
from pathlib import Path

import httpx
import pytest
import redis
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from digest import PROJECT_ROOT
from tests.smtp_server import free_port
from tests.workers import stop, wait_for_log

# Run by the installed interpreter: every requirement of the installed wheel, with the
# requirements of the extras it asks for, met by an importable distribution.
UNMET = """
import json
from importlib.metadata import PackageNotFoundError, distribution, version
from packaging.requirements import Requirement

def unmet(name, extra=""):
    found = []
    for line in distribution(name).requires or []:
        requirement = Requirement(line)
        if requirement.marker and not requirement.marker.evaluate({"extra": extra}):
            continue
        try:
            have = version(requirement.name)
        except PackageNotFoundError:
            found.append(line)
            continue
        if not requirement.specifier.contains(have, prereleases=True):
            found.append(f"{line} (found {have})")
        for wanted in requirement.extras:
            found += unmet(requirement.name, wanted)
    return found

import digest
print(json.dumps({"unmet": unmet("digest"), "location": str(distribution("digest").locate_file("")),
                  "files": [str(digest.resource(name)) for name in ("templates", "migrations", "config")]}))
"""


def project() -> dict:
    return tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


class Installed:
    def __init__(self, root: Path):
        self.root = root
        self.bin = root / "venv" / "bin"

    def env(self, **settings: str) -> dict[str, str]:
        """A clean environment: the venv's bin first, no DIGEST_* but `settings`."""
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("DIGEST_", "PYTHON", "VIRTUAL_ENV"))}
        env["PATH"] = f"{self.bin}{os.pathsep}{env.get('PATH', '/usr/bin:/bin')}"
        env.update({f"DIGEST_{k.upper()}": v for k, v in settings.items()})
        return env

    def run(self, cwd: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(self.bin / "digest"), *args], cwd=cwd, env=env, capture_output=True,
                              text=True, timeout=120)

    def start(self, cwd: Path, env: dict[str, str], log: Path, *args: str) -> subprocess.Popen:
        with open(log, "wb") as out:
            return subprocess.Popen([str(self.bin / "digest"), *args], cwd=cwd, env=env, stdout=out,
                                    stderr=subprocess.STDOUT)


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Installed:
    root = tmp_path_factory.mktemp("package")
    assert not root.resolve().is_relative_to(PROJECT_ROOT)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "--wheel-dir", str(root / "dist"), str(PROJECT_ROOT)], check=True, capture_output=True)
    [wheel] = (root / "dist").glob("digest-*.whl")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root / "venv")], check=True)
    venv_python = root / "venv" / "bin" / "python"
    site = subprocess.run([str(venv_python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True).stdout.strip()
    ours = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    Path(site, "test_dependencies.pth").write_text("\n".join(sorted(ours)) + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(venv_python), "install", "--quiet",
                    "--no-deps", "--no-index", str(wheel)], check=True, capture_output=True)
    return Installed(root)


def test_the_installed_wheel_has_its_files_and_its_dependencies(installed):
    check = subprocess.run([str(installed.bin / "python"), "-c", UNMET], cwd=installed.root,
                           env=installed.env(), capture_output=True, text=True, timeout=60, check=True)
    report = json.loads(check.stdout)
    assert report["unmet"] == []
    venv = installed.root / "venv"
    assert Path(report["location"]).is_relative_to(venv)
    assert all(Path(files).is_relative_to(venv) and Path(files).is_dir() for files in report["files"])
    version = installed.run(installed.root, installed.env(), "--version")
    assert version.returncode == 0 and version.stdout.strip() == f"digest {project()['version']}"


def test_a_bare_demo_runs_on_the_embedded_defaults(installed):
    trial = installed.root / "trial"
    trial.mkdir()
    demo = installed.run(trial, installed.env(), "demo")
    assert demo.returncode == 0, demo.stderr
    assert "DIGEST_ENVIRONMENT is not set: the demo runs as development" in demo.stdout
    assert "30 stories stored" in demo.stdout
    assert len(list((trial / "var" / "outbox").glob("*.eml"))) == 25
    assert (trial / "var" / "digest.db").exists()


def test_a_production_deployment_upgrades_serves_and_runs_worker_and_beat(installed, redis_url, tmp_path):
    deploy = installed.root / "deploy"
    deploy.mkdir()
    refused = installed.run(deploy, installed.env(), "db", "upgrade")
    assert refused.returncode != 0 and "DIGEST_SECRET_KEY" in refused.stderr
    port, queue = free_port(), f"digest-package-{uuid.uuid4().hex[:8]}"
    env = installed.env(secret_key=secrets.token_urlsafe(48), public_url=f"http://127.0.0.1:{port}",
                        from_email="Example Daily <daily@news.example.org>", broker_url=redis_url,
                        celery_queue=queue)

    upgraded = installed.run(deploy, env, "db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    assert (deploy / "var" / "digest.db").exists()

    server = installed.start(deploy, env, tmp_path / "serve.log", "serve", "--port", str(port))
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                home, login = (httpx.get(f"http://127.0.0.1:{port}{path}") for path in ("/", "/staff/login"))
                break
            except httpx.TransportError:
                assert server.poll() is None and time.monotonic() < deadline, "digest serve did not start"
                time.sleep(0.2)
    finally:
        stop(server)
    assert home.status_code == 200 and login.status_code == 200 and "<form" in login.text

    name = f"{queue}@{socket.gethostname()}"
    worker = installed.start(deploy, env, tmp_path / "worker.log", "worker", "--loglevel", "INFO",
                             "--concurrency", "1", "--hostname", name, "--without-gossip", "--without-mingle")
    beat = installed.start(deploy, env, tmp_path / "beat.log", "beat", "--loglevel", "DEBUG",
                           "--schedule", str(tmp_path / "beat-schedule"))
    try:
        wait_for_log(worker, tmp_path / "worker.log", f"{name} ready.")
        ping = subprocess.run([str(installed.bin / "python"), "-m", "celery", "-A", "digest.worker", "inspect",
                               "ping", "--destination", name, "--timeout", "5"], cwd=deploy, env=env,
                              capture_output=True, text=True, timeout=60)
        assert ping.returncode == 0 and "pong" in ping.stdout, ping.stdout + ping.stderr
        schedule = wait_for_log(beat, tmp_path / "beat.log", "digest.reconcile")
        assert "beat: Starting" in schedule and "digest.schedule_tick" in schedule
    finally:
        stop(beat)
        stop(worker)
        redis.Redis.from_url(redis_url).delete(queue)
    assert worker.returncode == 0 and beat.returncode == 0


def test_every_library_the_code_imports_is_a_declared_dependency():
    imported = set()
    for path in (PROJECT_ROOT / "digest").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                imported.add(node.module.split(".")[0])
    declared = {canonicalize_name(Requirement(line).name) for line in project()["dependencies"]}
    providers = packages_distributions()
    undeclared = {module: providers.get(module) for module in imported - set(sys.stdlib_module_names) - {"digest"}
                  if not {canonicalize_name(d) for d in providers.get(module, [])} & declared}
    assert undeclared == {}
