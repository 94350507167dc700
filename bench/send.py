"""Send one edition to N subscribers (PostgreSQL) through Celery worker processes (two by
default) and Redis into a fast SMTP sink, and compare with the raw rate of pushing pre-built messages
over reused smtplib connections into the same sink. smtplib does not pipeline (four round
trips a message) while the send path does when the sink offers PIPELINING, so the same
pre-built messages are also pushed through the project's SMTP backend (pipelined): the
second, stricter reference.

    python bench/send.py [--subscribers 100000]

Needs PostgreSQL and Redis (DIGEST_BENCH_POSTGRES_URL, DIGEST_BENCH_REDIS_URL; defaults are
the machine's local servers). The sink is Postfix's C `smtp-sink`, fetched once with
`apt-get download postfix` and unpacked under var/bench/ (Postfix is not installed); if
that fails, an aiosmtpd sink is used and the numbers say so (it caps near 230 msg/s).
The last line is `send_rate=... raw_rate=... ratio=... peak_rss_mb=... pipelined_raw_rate=...
pipelined_ratio=... relay_rtt_ms=... peak_connections=...`.

At a distance (`--relay-rtt-ms 40`): a relay process (bench/relay_proxy.py) between the
sink and everything that sends to it holds each direction back half the round trip, the
references push only a few hundred messages (they make two or four round trips a message
over two connections), and a line `bound_rate=... bound_ratio=...` gives the ceiling of
one round trip a message over all the connections the workers may open, and how close the
send came. `peak_connections` is counted by the relay (what the sink sees); without one it
is sampled from /proc/net/tcp every 20 ms during the send (a short peak can slip through).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import shutil
import signal
import smtplib
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlmodel import Session, select  # noqa: E402

from digest import migrate  # noqa: E402
from digest.curate.editions import approve, build_draft, todays_slot  # noqa: E402
from digest.db import get_engine  # noqa: E402
from digest.mail.backends.base import Job, SingleGate  # noqa: E402
from digest.mail.backends.smtp import SMTPBackend  # noqa: E402
from digest.mail.message import OutgoingMessage  # noqa: E402
from digest.models import Edition, EditionStatus  # noqa: E402
from digest.subscribers.links import personal_values  # noqa: E402
from digest.sample import load_lists_and_subscribers, write_feeds  # noqa: E402
from digest.ingest.service import ingest_file  # noqa: E402
from digest.mail.message import message_id  # noqa: E402
from digest.models import DigestList, Subscriber  # noqa: E402
from digest.render.variants import ALL  # noqa: E402
from digest.send.service import mail_template, prepare_variants  # noqa: E402
from digest.settings import Settings  # noqa: E402
from bench.relay_proxy import RelayProcess  # noqa: E402

POSTGRES = os.environ.get("DIGEST_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
REDIS = os.environ.get("DIGEST_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
CACHE = ROOT / "var" / "bench"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def smtp_sink_binary() -> tuple[list[str], dict] | None:
    """Postfix's smtp-sink, unpacked from the Debian package into var/bench/ once."""
    root = CACHE / "postfix"
    binary = root / "usr" / "sbin" / "smtp-sink"
    if not binary.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        download = CACHE / "download"
        download.mkdir(exist_ok=True)
        try:
            subprocess.run(["apt-get", "download", "postfix"], cwd=download, check=True,
                           capture_output=True, timeout=300)
            (deb,) = download.glob("postfix_*.deb")
            subprocess.run(["dpkg", "-x", str(deb), str(root)], check=True, capture_output=True)
        except (OSError, subprocess.SubprocessError, ValueError) as exc:
            print(f"smtp-sink unavailable ({exc}); falling back to aiosmtpd")
            return None
        finally:
            shutil.rmtree(download, ignore_errors=True)
    env = dict(os.environ, LD_LIBRARY_PATH=str(root / "usr" / "lib" / "postfix"))
    return [str(binary)], env


def start_sink(port: int, log: Path) -> subprocess.Popen:
    found = smtp_sink_binary()
    if found:
        command, env = found
        args = [*command, "-u", "nobody", "-c", f"127.0.0.1:{port}", "256"]
        name = "smtp-sink (Postfix, C)"
    else:
        args = [sys.executable, "-c", AIOSMTPD_SINK, str(port)]
        env, name = dict(os.environ), "aiosmtpd (Python; caps the rates)"
    process = subprocess.Popen(args, env=env, stdout=open(log, "wb"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            print(f"sink: {name} on port {port}")
            return process
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"the SMTP sink did not start: {log.read_text(errors='replace')}")


AIOSMTPD_SINK = """
import sys, time
from aiosmtpd.controller import Controller
class Sink:
    async def handle_DATA(self, server, session, envelope):
        return '250 OK'
c = Controller(Sink(), hostname='127.0.0.1', port=int(sys.argv[1])); c.start()
while True: time.sleep(3600)
"""


class ConnectionSampler(threading.Thread):
    """The peak number of ESTABLISHED TCP connections to a local port, from /proc/net/tcp."""

    def __init__(self, port: int, interval: float = 0.02) -> None:
        super().__init__(daemon=True)
        self.local, self.interval = f":{port:04X}", interval
        self.peak = 0
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.wait(self.interval):
            with open("/proc/net/tcp") as table:
                next(table)
                rows = (line.split(None, 4) for line in table)
                count = sum(1 for row in rows if row[1].endswith(self.local) and row[3] == "01")
            self.peak = max(self.peak, count)

    def stop(self) -> int:
        self.stopping.set()
        self.join()
        return self.peak


def make_world(url: str, subscribers: int, settings: Settings) -> int:
    migrate.upgrade(url)
    with Session(get_engine(url), expire_on_commit=False) as session:
        load_lists_and_subscribers(session)
        for path, feed in write_feeds(settings.data_dir / "feeds"):
            ingest_file(session, path, name=feed["title"], section=feed["section"], weight=feed["weight"])
        session.commit()
        morning = session.exec(select(DigestList).where(DigestList.slug == "morning-briefing")).one()
        # Set-wise: one INSERT ... SELECT generate_series for each table.
        session.execute(text(
            "INSERT INTO subscriber (email, name, created_at) SELECT 'bench' || g || '@example.net', "
            "'Reader ' || g, now() FROM generate_series(1, :n) AS g"), {"n": subscribers})
        session.execute(text(
            "INSERT INTO subscription (subscriber_id, list_id, status, topics, created_at) "
            "SELECT id, :list, 'active', '[]', now() FROM subscriber WHERE email LIKE 'bench%'"),
            {"list": morning.id})
        edition = build_draft(session, morning, todays_slot(morning))
        if edition.status == EditionStatus.DRAFT:
            approve(session, edition.id)
        session.commit()
        return edition.id


def prebuilt_messages(url: str, settings: Settings, edition_id: int, count: int) -> list[tuple[str, bytes]]:
    """Real digest messages, assembled before the clock starts (the raw rate's input)."""
    with Session(get_engine(url), expire_on_commit=False) as session:
        edition = session.get(Edition, edition_id)
        template = mail_template(settings, session.get(DigestList, edition.list_id),
                                 prepare_variants(session, settings, edition)[ALL])
        session.rollback()
        readers = session.exec(select(Subscriber).limit(count)).all()
        out = []
        for reader in readers:
            personal = personal_values(settings, reader, edition.list_id, edition_id)
            message = template.assemble(recipient=reader.email, recipient_name=reader.name,
                                        message_id=message_id(edition_id, reader.id, template.domain),
                                        personal=personal, unsubscribe_url=personal.unsubscribe_url)
            out.append((message.recipient, message.data))
        return out


def _push(args) -> int:
    port, sender, messages = args
    connection = smtplib.SMTP("127.0.0.1", port)
    for recipient, data in messages:
        connection.sendmail(sender, [recipient], data)
    connection.quit()
    return len(messages)


def _push_pipelined(args) -> int:
    """The send path's SMTP stream without the rest: one round trip a message."""
    port, sender, messages = args
    jobs = (Job(n, OutgoingMessage(sender, recipient, "", data)) for n, (recipient, data) in enumerate(messages))
    with SMTPBackend(host="127.0.0.1", port=port) as backend:
        backend.send_stream(jobs, SingleGate())
    return len(messages)


def raw_rate(port: int, sender: str, messages: list, push=_push, processes: int = 2) -> float:
    """Two processes, one reused connection each, pushing pre-built bytes."""
    chunks = [messages[i::processes] for i in range(processes)]
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        start = time.perf_counter()
        sent = sum(pool.map(push, [(port, sender, chunk) for chunk in chunks]))
        return sent / (time.perf_counter() - start)


def descendants(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as listing:
            kids = [int(p) for p in listing.read().split()]
    except OSError:
        return []
    return kids + [d for k in kids for d in descendants(k)]


def cpu_seconds(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except OSError:
            pass
    return total


def peak_rss_mb(pids: list[int]) -> float:
    """The largest peak resident size (VmHWM) among the worker processes."""
    peak = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]))
        except OSError:
            pass
    return peak / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--raw-messages", type=int,
                        help="messages pushed for the raw rates (capped at --subscribers; "
                             "default 20,000, or 300 with a relay)")
    parser.add_argument("--relay-rtt-ms", type=float, default=0.0,
                        help="put a relay this many ms of round trip away between the senders "
                             "and the sink (0: none)")
    parser.add_argument("--workers", type=int, default=2, help="Celery worker processes")
    parser.add_argument("--connections", type=int, default=32,
                        help="DIGEST_SMTP_CONNECTIONS: SMTP connections per worker process")
    parser.add_argument("--max-connections", type=int, default=64,
                        help="DIGEST_SMTP_MAX_CONNECTIONS: SMTP connections across all workers")
    options = parser.parse_args()
    rtt = options.relay_rtt_ms
    raw_messages = options.raw_messages or (300 if rtt else 20_000)
    distance = f", through a relay {rtt:g} ms away" if rtt else ""

    work = CACHE / f"run-{uuid.uuid4().hex[:8]}"
    work.mkdir(parents=True)
    name = f"digest_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = POSTGRES.rsplit("/", 1)[0] + f"/{name}"
    port = free_port()
    sink = start_sink(port, work / "sink.log")
    # One relay per phase, so that each phase's connections are counted on their own.
    relays: dict[str, RelayProcess] = {}
    worker = None
    try:
        for phase in ("raw", "send") if rtt else ():
            relays[phase] = RelayProcess(port, rtt).start()
        raw_port, send_port = (relays[phase].port if rtt else port for phase in ("raw", "send"))
        values = dict(environment="development", database_url=url, broker_url=REDIS, celery_queue=f"digest-bench-{uuid.uuid4().hex[:8]}",
                      mail_backend="smtp", smtp_host="127.0.0.1", smtp_port=str(send_port),
                      public_url="https://news.example.org", secret_key="bench-secret",
                      from_email="Example Daily <daily@news.example.org>",
                      bounce_address="bounces@news.example.org",
                      batch_size=str(options.batch_size), data_dir=str(work))
        settings = Settings(_env_file=None, **values)
        started = time.perf_counter()
        edition_id = make_world(url, options.subscribers, settings)
        print(f"world: {options.subscribers} subscribers in {time.perf_counter() - started:.1f}s")

        messages = prebuilt_messages(url, settings, edition_id, min(raw_messages, options.subscribers))
        size = sum(len(d) for _, d in messages) / len(messages)
        raw = raw_rate(raw_port, "daily@news.example.org", messages)
        print(f"raw:  {raw:8.0f} msg/s  ({len(messages)} pre-built messages of {size / 1024:.1f} KB, "
              f"2 processes, smtplib, one connection each{distance})")
        pipelined = raw_rate(raw_port, "daily@news.example.org", messages, push=_push_pipelined)
        print(f"raw:  {pipelined:8.0f} msg/s  (the same, through digest's SMTP backend: PIPELINING)")
        del messages
        if rtt:
            print(f"relay of the raw rates: {relays['raw'].stop()}")

        env = {k: v for k, v in os.environ.items() if not k.startswith("DIGEST_")}
        env.update({f"DIGEST_{k.upper()}": v for k, v in values.items()})
        env.update(DIGEST_SMTP_CONNECTIONS=str(options.connections),
                   DIGEST_SMTP_MAX_CONNECTIONS=str(options.max_connections))
        log = open(work / "worker.log", "wb")
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "digest.worker", "worker", "--loglevel=WARNING",
             f"--concurrency={options.workers}", "-Q", values["celery_queue"], "--without-gossip",
             "--without-mingle", "--without-heartbeat"], cwd=ROOT, env=env, stdout=log,
            stderr=subprocess.STDOUT)
        time.sleep(1)
        while len(descendants(worker.pid)) < options.workers:
            if worker.poll() is not None:
                raise RuntimeError((work / "worker.log").read_text(errors="replace"))
            time.sleep(0.2)
        time.sleep(2)  # the pool children finish importing
        processes = [worker.pid, *descendants(worker.pid)]
        cpu_before = cpu_seconds(processes)

        from digest.celery_app import make_celery
        celery = make_celery(settings)
        engine = get_engine(url)
        sampler = None if rtt else ConnectionSampler(port)
        if sampler:
            sampler.start()
        start = time.perf_counter()
        celery.send_task("digest.start_send", args=[edition_id])
        while True:
            time.sleep(0.5)
            with engine.connect() as connection:
                status = connection.execute(text("SELECT status FROM edition WHERE id = :e"),
                                            {"e": edition_id}).scalar_one()
                if status == EditionStatus.SENT:
                    break
            if worker.poll() is not None:
                raise RuntimeError((work / "worker.log").read_text(errors="replace"))
        elapsed = time.perf_counter() - start
        if sampler:
            peak = sampler.stop()
        else:
            counters = relays["send"].stop()
            peak = counters["peak_connections"]
            print(f"relay of the send: {counters}")
        processes = [worker.pid, *descendants(worker.pid)]
        cpu = cpu_seconds(processes) - cpu_before
        rss = peak_rss_mb(processes)
        with engine.connect() as connection:
            counts = dict(connection.execute(text(
                "SELECT status, count(*) FROM delivery WHERE edition_id = :e GROUP BY status"),
                {"e": edition_id}).all())
        sent = counts.get("sent", 0)
        rate = sent / elapsed
        print(f"send: {rate:8.0f} msg/s  ({sent} sent in {elapsed:.1f}s, start to edition sent, "
              f"{options.workers} Celery worker processes, batches of {options.batch_size}, "
              f"{options.connections} SMTP connections a process, {options.max_connections} in all"
              f"{distance}; ledger {counts}; peak concurrent connections {peak}, "
              f"{'counted by the relay' if rtt else 'sampled'})")
        print(f"cpu per message (worker processes): {cpu / max(sent, 1) * 1000:.2f} ms; "
              f"peak RSS of one worker process: {rss:.0f} MB")
        if rtt:
            in_all = min(options.workers * options.connections, options.max_connections)
            bound = in_all / (rtt / 1000)
            print(f"bound_rate={bound:.0f} bound_ratio={rate / bound:.2f} (one round trip of {rtt:g} ms "
                  f"a message over {in_all} connections: min({options.workers} x "
                  f"{options.connections}, {options.max_connections}))")
        print(f"send_rate={rate:.0f} raw_rate={raw:.0f} ratio={rate / raw:.2f} peak_rss_mb={rss:.0f} "
              f"pipelined_raw_rate={pipelined:.0f} pipelined_ratio={rate / pipelined:.2f} "
              f"relay_rtt_ms={rtt:g} peak_connections={peak}")
    finally:
        if worker is not None:
            worker.send_signal(signal.SIGTERM)
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()
        for relay in relays.values():
            relay.stop()
        sink.terminate()
        sink.wait()
        get_engine(url).dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
        shutil.rmtree(work, ignore_errors=True)

if __name__ == "__main__":
    main()
