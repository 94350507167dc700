"""The chaos suite: one edition per scenario, sent by real Celery workers through a real
Redis and a real PostgreSQL into a fault-injecting SMTP relay, while something breaks.

Each scenario gets a database of its own (a copy of a template holding the sample world
and the readers), its own Celery queue and a relay that records every message it accepts.
When the edition is sent it is counted at the relay, by Message-ID:

- lost: an eligible reader (still subscribed at the end) with no copy, unless their row is
  bounced, failed, expired or unknown; and any row the ledger calls sent with no copy;
- duplicates: copies beyond the first of one Message-ID;
- allowed: rows `unknown` (their data went out, the reply never came back: RFC 1047), and
  the bound they must stay within: one per connection open at each kill, crash or drop;
- stray: copies of rows that the ledger says were not sent (skipped, bounced, failed).

A scenario fails when lost > 0, duplicates > allowed, stray > 0 or allowed > bound.
"""

from __future__ import annotations

import random
import re
import shutil
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from sqlalchemy import create_engine, select, text
from sqlmodel import Session

from digest import PROJECT_ROOT, migrate
from digest.celery_app import enqueue, enqueue_batches, make_celery
from digest.curate.editions import approve as curate_approve, build_draft, todays_slot
from digest.db import get_engine
from digest.models import (
    Delivery, DeliveryStatus, DigestList, Edition, EditionStatus, Subscriber, Subscription, SubscriptionStatus,
    utcnow,
)
from digest.send import control
from digest.settings import Settings
from digest.subscribers.manage import unsubscribe
from tests.chaos.cluster import CeleryProcess, Postgres, Redis, temporary_root
from tests.factories import approved_edition, sample_world
from tests.send.conftest import add_subscribers
from tests.smtp_server import SMTPSink
from tests.workers import digest_env

DOMAIN = "news.example.org"
LIST = "morning-briefing"
#: The settings every worker of the suite runs with (a scenario may change some): short
#: leases and retries so that recovery takes seconds, small batches so there are many.
BASE = dict(
    environment="development",
    mail_backend="smtp", smtp_host="127.0.0.1", smtp_timeout="10", smtp_connections="4",
    public_url=f"https://{DOMAIN}", secret_key="chaos-secret", from_email=f"Example Daily <daily@{DOMAIN}>",
    batch_size="150", delivery_lease_seconds="8", retry_base_seconds="2", smtp_backoff_seconds="0.05",
    smtp_max_consecutive_failures="5", css_inliner="css-inline",
)
FINAL_MISSES = {DeliveryStatus.BOUNCED, DeliveryStatus.FAILED, DeliveryStatus.UNKNOWN, DeliveryStatus.EXPIRED}


@dataclass
class Result:
    name: str
    readers: int = 0      # eligible at the end
    received: int = 0     # messages of the edition at the relay
    counts: dict[str, int] = field(default_factory=dict)
    lost: int = 0
    duplicates: int = 0
    allowed: int = 0      # rows unknown
    bound: int = 0        # connections open at the kills, crashes and drops
    stray: int = 0
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return (self.error is None and self.lost == 0 and self.duplicates <= self.allowed
                and self.stray == 0 and self.allowed <= self.bound)

    def line(self) -> str:
        ledger = " ".join(f"{k}={v}" for k, v in sorted(self.counts.items()))
        verdict = "ok" if self.ok else f"FAIL{': ' + self.error if self.error else ''}"
        return (f"{self.name:<20} readers={self.readers} received={self.received} [{ledger}] "
                f"lost={self.lost} duplicates={self.duplicates} allowed={self.allowed} (bound {self.bound}) "
                f"stray={self.stray} {self.seconds:.0f}s {verdict}")


class Scenario:
    def __init__(self, name: str, summary: str, body: Callable[[Run], None], ci: bool = False):
        self.name, self.summary, self.body, self.ci = name, summary, body, ci


class Suite:
    """The servers (PostgreSQL, Redis) for all scenarios, and a template database with the
    sample world and `subscribers` readers."""

    def __init__(self, subscribers: int, outage_seconds: float, logs: Path, echo: Callable[[str], None] = print):
        self.subscribers, self.outage_seconds, self.logs, self.echo = subscribers, outage_seconds, logs, echo
        self.root = temporary_root()
        self.postgres = Postgres(self.root)
        self.redis = Redis(self.root)
        self.count = 0

    def __enter__(self) -> Suite:
        self.logs.mkdir(parents=True, exist_ok=True)
        try:
            self.postgres.init()
            self.redis.start()
            self._template()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.redis.kill()
        self.postgres.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)

    def _admin(self):
        return create_engine(self.postgres.url(), isolation_level="AUTOCOMMIT")

    def _template(self) -> None:
        started = time.monotonic()
        admin = self._admin()
        with admin.connect() as connection:
            connection.execute(text("CREATE DATABASE chaos_template"))
        admin.dispose()
        url = self.postgres.url("chaos_template")
        migrate.upgrade(url)
        settings = Settings(_env_file=None, database_url=url, data_dir=self.root / "var", **BASE)
        with Session(get_engine(url), expire_on_commit=False) as session:
            world = sample_world(session, settings)
            add_subscribers(session, world[LIST], self.subscribers)
        get_engine(url).dispose()
        get_engine.cache_clear()
        self.echo(f"chaos: servers up (PostgreSQL :{self.postgres.port}, Redis :{self.redis.port}), "
                  f"{self.subscribers} readers in the template ({time.monotonic() - started:.0f}s)")

    def run(self, scenario: Scenario) -> Result:
        self.count += 1
        result = Result(scenario.name)
        started = time.monotonic()
        run = None
        try:
            run = Run(self, scenario, result)
            scenario.body(run)
            run.wait_sent()
        except Exception as exc:  # the scenario could not finish: counted as it stands
            result.error = f"{type(exc).__name__}: {exc}"[:300]
        finally:
            if run is not None:
                run.close()
                try:
                    run.tally()
                except Exception as exc:
                    result.error = result.error or f"tally: {exc}"
                run.drop()
        result.seconds = time.monotonic() - started
        return result


class Run:
    """One scenario's world: its database, queue, relay, workers and beats."""

    def __init__(self, suite: Suite, scenario: Scenario, result: Result):
        self.suite, self.scenario, self.result = suite, scenario, result
        self.logs = suite.logs / scenario.name
        shutil.rmtree(self.logs, ignore_errors=True)
        self.logs.mkdir(parents=True)
        self.database = f"chaos_{suite.count}_{scenario.name.replace('-', '_')}"
        admin = suite._admin()
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{self.database}" TEMPLATE chaos_template'))
        admin.dispose()
        self.sink = SMTPSink(headers_only=True)
        self.sink.start()
        self.values = dict(BASE, database_url=suite.postgres.url(self.database), broker_url=suite.redis.url(),
                           celery_queue=f"chaos-{scenario.name}-{uuid.uuid4().hex[:6]}",
                           smtp_port=str(self.sink.port), data_dir=str(self.logs / "var"),
                           outbox_dir=str(self.logs / "outbox"))
        self.settings = Settings(_env_file=None, **self.values)
        self.processes: list[CeleryProcess] = []
        with self.session() as session:
            self.list_id = session.execute(select(DigestList.id).where(DigestList.slug == LIST)).scalar_one()
        self.edition_id: int | None = None
        self.deadline = time.monotonic() + 240 + suite.outage_seconds

    # --- the world -------------------------------------------------------------------

    def session(self) -> Session:
        return Session(get_engine(self.settings.database_url), expire_on_commit=False)

    def approve(self, on_schedule: bool = False, draft: bool = False) -> int:
        """The edition to send, approved (or left a draft, to approve later with
        :meth:`approve_now`). `on_schedule`: the list's send time is this minute (UTC) and
        every other list's far away, so the schedule tick starts it once it is approved."""
        if on_schedule and f"{utcnow():%H:%M}" == "23:59":
            time.sleep(61)  # "this minute" must still be today's slot when the tick looks
        with self.session() as session:
            digest_list = session.get(DigestList, self.list_id)
            if on_schedule:
                now = utcnow()
                for other in session.execute(select(DigestList)).scalars():
                    at = now if other.id == self.list_id else now + timedelta(hours=6)
                    other.send_time, other.timezone = f"{at:%H:%M}", "UTC"
            digest_list.auto_approve = not draft
            session.commit()
            if draft:
                edition = build_draft(session, digest_list, todays_slot(digest_list))
                session.commit()
            else:
                edition = approved_edition(session, digest_list)
            self.edition_id = edition.id
        return self.edition_id

    def approve_now(self) -> None:
        with self.session() as session:
            curate_approve(session, self.edition_id)
            session.commit()

    def readers(self, n: int) -> list[int]:
        with self.session() as session:
            ids = session.execute(select(Subscription.subscriber_id).where(
                Subscription.list_id == self.list_id, Subscription.status == SubscriptionStatus.ACTIVE)).scalars().all()
        return random.Random(n).sample(sorted(ids), min(n, len(ids)))

    @property
    def size(self) -> int:
        """Readers of the list (how many messages a clean send delivers)."""
        return self.suite.subscribers

    # --- processes ---------------------------------------------------------------------

    def env(self, **overrides: str) -> dict[str, str]:
        return digest_env(**{**self.values, **overrides})

    def worker(self, name: str, concurrency: int = 2, **overrides: str) -> CeleryProcess:
        process = CeleryProcess.worker(self.env(**overrides), self.logs / f"worker-{name}.log", concurrency, name)
        self.processes.append(process)
        return process.wait_ready()

    def beat(self, name: str = "beat", wait: bool = True, tick_seconds: float = 2) -> CeleryProcess:
        env = self.env()
        env["CHAOS_BEAT_SECONDS"], env["CHAOS_TICK_SECONDS"] = "2", str(tick_seconds)
        process = CeleryProcess.beat(env, self.logs / f"{name}.log", self.logs / f"{name}-schedule")
        self.processes.append(process)
        return process.wait_ready() if wait else process

    def starts(self) -> str:
        """What the workers said about the edition's start tasks."""
        logs = "".join(p.read_text(errors="replace") for p in self.logs.glob("worker-*.log"))
        received = len(re.findall(r"Task digest\.start_send\[[^\]]+\] received", logs))
        return (f"{received} start task(s): "
                f"{logs.count('is already sending')} refused as already sending, "
                f"{logs.count('is sent and cannot be sent')} as already sent")

    def task(self, name: str, *args) -> None:
        make_celery(self.settings).send_task(name, args=list(args))

    def start_send(self) -> None:
        if self.edition_id is None:
            self.approve()
        self.task("digest.start_send", self.edition_id)

    def cli(self, *args: str) -> subprocess.Popen:
        """`digest ...` as ops run it (this checkout's code, this scenario's settings)."""
        log = open(self.logs / "cli.log", "ab")
        return subprocess.Popen([sys.executable, "-m", "digest.cli", *args], cwd=PROJECT_ROOT,
                                env=self.env(), stdout=log, stderr=subprocess.STDOUT)

    # --- watching and breaking ---------------------------------------------------------

    def received(self) -> int:
        return len(self.sink.messages)

    def wait(self, condition: Callable[[], bool], what: str, interval: float = 0.02) -> None:
        while not condition():
            if time.monotonic() > self.deadline:
                raise TimeoutError(f"waiting for {what}")
            time.sleep(interval)

    def wait_received(self, fraction: float) -> None:
        wanted = int(self.size * fraction)
        self.wait(lambda: self.received() >= wanted, f"{wanted} messages at the relay")

    def cut(self, why: str, n: int) -> None:
        """`n` connections were cut off while they may have had a message in flight: each
        may leave one row whose outcome is unknown."""
        self.result.bound += n
        self.result.notes.append(f"{why}: {n} connection(s) cut")

    @contextmanager
    def cutting(self, why: str) -> Iterator[None]:
        """Around something that cuts every open connection off (a kill, a crash): the
        connections open before it, and any opened while it happens."""
        before, opened = self.sink.connections, self.sink.sessions_opened
        yield
        self.cut(why, before + self.sink.sessions_opened - opened)

    def kill(self, process: CeleryProcess) -> None:
        with self.cutting(f"SIGKILL worker {process.log.stem.removeprefix('worker-')} (main and pool)"):
            process.kill()

    def kill_pools(self) -> None:
        """SIGKILL every worker's pool processes (each in the middle of a batch); the
        workers start new ones, and the broker redelivers their batches."""
        with self.cutting("SIGKILL every pool process"):
            for process in self.processes:
                if "worker" in process.log.stem:
                    for pid in process.pool():
                        subprocess.run(["kill", "-9", str(pid)], check=False)

    def quiet(self, seconds: float = 1.0) -> bool:
        before = self.received()
        time.sleep(seconds)
        return self.received() == before

    def status(self) -> str:
        with self.session() as session:
            return session.execute(select(Edition.status).where(Edition.id == self.edition_id)).scalar_one()

    def wait_sent(self) -> None:
        self.wait(lambda: self.edition_id is not None and self.status() == EditionStatus.SENT,
                  "the edition to be sent", interval=0.5)

    # --- counting ------------------------------------------------------------------------

    def tally(self) -> None:
        r = self.result
        if self.edition_id is None:
            r.error = r.error or "no edition"
            return
        copies: Counter[int] = Counter()
        pattern = re.compile(rf"<digest\.{self.edition_id}\.(\d+)@")
        for message_id in self.sink.message_ids():
            if match := pattern.match(str(message_id)):
                copies[int(match.group(1))] += 1
        with self.session() as session:
            rows = dict(session.execute(select(Delivery.subscriber_id, Delivery.status)
                                        .where(Delivery.edition_id == self.edition_id)).all())
            active = set(session.execute(select(Subscription.subscriber_id).where(
                Subscription.list_id == self.list_id, Subscription.status == SubscriptionStatus.ACTIVE)).scalars())
        r.readers, r.received = len(active), sum(copies.values())
        r.counts = dict(Counter(rows.values()))
        lost = {s for s in active if not copies[s] and rows.get(s) not in FINAL_MISSES}
        lost |= {s for s, status in rows.items() if status == DeliveryStatus.SENT and not copies[s]}
        r.lost = len(lost)
        r.duplicates = sum(n - 1 for n in copies.values() if n > 1)
        r.allowed = r.counts.get(DeliveryStatus.UNKNOWN, 0)
        r.stray = sum(n for s, n in copies.items() if rows.get(s) not in (DeliveryStatus.SENT, DeliveryStatus.UNKNOWN))
        if lost:
            r.notes.append(f"lost, e.g.: {sorted(lost)[:5]}")

    def close(self) -> None:
        for process in reversed(self.processes):
            process.stop()
        self.sink.stop()

    def drop(self) -> None:
        get_engine(self.settings.database_url).dispose()
        admin = self.suite._admin()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)'))
        admin.dispose()
        try:
            import redis
            redis.Redis.from_url(self.suite.redis.url()).flushall()
        except Exception:
            pass


# --- the scenarios --------------------------------------------------------------------------

SCENARIOS: list[Scenario] = []


def scenario(summary: str, ci: bool = False):
    def register(body: Callable[[Run], None]) -> Callable[[Run], None]:
        SCENARIOS.append(Scenario(body.__name__.replace("_", "-"), summary, body, ci))
        return body
    return register


@scenario("Two workers (2 processes each). When the relay holds back the reply to the "
          "message at 25%, every pool process is SIGKILLed mid-batch (Celery starts new ones "
          "and the broker redelivers their batches); at 60% a whole worker (main process and "
          "pool) is SIGKILLed and a new one started.", ci=True)
def worker_kill(run: Run) -> None:
    run.worker("a")
    second = run.worker("b")
    run.beat()
    run.approve()
    run.sink.slow(max(1, run.size // 4), seconds=3)
    run.start_send()
    run.wait(run.sink.in_flight.is_set, "a reply held back")
    run.kill_pools()
    run.wait_received(0.6)
    run.kill(second)
    run.worker("c")


@scenario("The relay receives a message's data, records it and closes the connection "
          "without a reply, every ~8% of the send; and every ~20% it closes the connection "
          "when the next MAIL comes (before any data).", ci=True)
def drop_after_data(run: Run) -> None:
    run.worker("a")
    run.worker("b")
    run.beat()
    step = max(5, run.size // 12)
    run.sink.drop_after_data(step, every=step)
    run.sink.drop_every(max(5, run.size // 5))
    run.start_send()
    run.wait_sent()
    run.cut("dropped after the data", run.sink.drops_after_data)
    run.cut("dropped at MAIL", run.sink.drops)


@scenario("A storm of 421: the relay admits only 3 connections at once (the workers want 16: "
          "the rest are greeted with 421 and closed), and from 20% it answers 421 to the "
          "next 15% of the recipients.")
def storm_421(run: Run) -> None:
    run.sink.max_connections = 3
    run.worker("a")
    run.worker("b")
    run.beat()
    run.start_send()
    run.wait_received(0.2)
    run.sink.busy("421 4.7.0 Too busy, closing transmission channel", count=max(10, int(run.size * 0.15)))
    run.wait_sent()
    run.result.notes.append(f"{run.sink.sessions_refused} connections refused at the greeting")


@scenario("451 greylisting: every 7th reader is refused once at RCPT (451 4.7.1) and accepted "
          "when the message comes back (deferred, retried by the reconciler).")
def greylisting_451(run: Run) -> None:
    run.sink.greylist(7)
    run.worker("a")
    run.worker("b")
    run.beat()
    run.start_send()
    run.wait_sent()
    run.result.notes.append(f"{run.sink.greylisted} greylisted")


@scenario("550 for some recipients: every 40th reader's mailbox does not exist "
          "(550 5.1.1: bounced and suppressed) and every 97th is refused by policy "
          "(550 5.7.1: failed, address kept).")
def refused_550(run: Run) -> None:
    with run.session() as session:
        emails = session.execute(select(Subscriber.email).where(Subscriber.email.like("reader%"))).scalars().all()
    for email in emails:
        number = int(email.removeprefix("reader").split("@")[0])
        if number % 40 == 7:
            run.sink.refuse[email] = "550 5.1.1 <%s>: Recipient address rejected: User unknown" % email
        elif number % 97 == 11:
            run.sink.refuse[email] = "550 5.7.1 <%s>: Recipient address rejected: Access denied" % email
    run.worker("a")
    run.worker("b")
    run.beat()
    run.start_send()


@scenario("The relay goes down at 25% (stops listening; open sessions are cut) for the "
          "outage time, then comes back on the same port. Rows wait as deferred; the batch "
          "that met the outage queues its own follow-up.", ci=True)
def relay_down(run: Run) -> None:
    run.worker("a")
    run.worker("b")
    run.beat()
    run.start_send()
    run.wait_received(0.25)
    with run.cutting("relay down"):
        run.sink.down()
    time.sleep(run.suite.outage_seconds)
    run.sink.up()
    run.result.notes.append(f"relay down for {run.suite.outage_seconds:.0f}s")


@scenario("Redis (broker, queued-batch counts, connection slots) is SIGKILLed at 30% and "
          "started again empty 3 s later: every queued task is lost; the beat's reconciler "
          "queues batches for what is due.", ci=True)
def redis_restart(run: Run) -> None:
    run.worker("a")
    run.worker("b")
    run.beat()
    run.start_send()
    run.wait_received(0.3)
    with run.cutting("Redis killed"):
        run.suite.redis.kill()
    time.sleep(3)
    run.suite.redis.start()


@scenario("PostgreSQL is stopped at 30% in immediate mode (a crash: no checkpoint, recovery "
          "from the WAL at start) and started again 3 s later.", ci=True)
def postgres_restart(run: Run) -> None:
    run.worker("a")
    run.worker("b")
    run.beat()
    run.start_send()
    run.wait_received(0.3)
    with run.cutting("PostgreSQL crashed"):
        run.suite.postgres.stop("immediate")
    time.sleep(3)
    run.suite.postgres.start()


@scenario("Two beat processes run the schedule at once (their ticks every 0.25 s here): the "
          "edition, due this minute, is approved while both run, so both ticks find it due "
          "and queue its start; both also run the reconciler.", ci=True)
def beat_twice(run: Run) -> None:
    run.approve(on_schedule=True, draft=True)
    run.worker("a")
    run.worker("b")
    beats = [run.beat("beat-1", wait=False, tick_seconds=0.25), run.beat("beat-2", wait=False, tick_seconds=0.25)]
    for beat in beats:
        beat.wait_ready()
    time.sleep(1)
    run.approve_now()
    run.wait_sent()
    run.result.notes.append(run.starts())


@scenario("A manual send racing the scheduled one: the edition, due this minute, is approved "
          "while a beat ticks every 0.25 s, and at the same moment ops start it by hand (what "
          "`digest send start` does: at once and 0.12 s later), then once more through the CLI.")
def manual_vs_scheduled(run: Run) -> None:
    edition = run.approve(on_schedule=True, draft=True)
    run.worker("a")
    run.worker("b")
    run.beat(tick_seconds=0.25)
    time.sleep(1)
    run.approve_now()
    enqueue(run.settings, "digest.start_send", edition)
    time.sleep(0.12)
    enqueue(run.settings, "digest.start_send", edition)
    run.cli("send", "start", str(edition)).wait(60)
    run.wait_sent()
    run.result.notes.append(run.starts())


@scenario("Unsubscribes during the send: 10% of the readers leave (the product's unsubscribe) "
          "in ten waves between 5% and 80% of the send; those whose message had not begun "
          "must get nothing.")
def unsubscribes(run: Run) -> None:
    run.worker("a")
    run.worker("b")
    run.beat()
    run.start_send()
    leavers = run.readers(max(10, run.size // 10))
    wave = max(1, len(leavers) // 10)
    for i in range(10):
        run.wait_received(0.05 + 0.075 * i)
        with run.session() as session:
            for subscriber_id in leavers[i * wave:(i + 1) * wave]:
                unsubscribe(session, subscriber_id, run.list_id)
    run.wait_sent()
    with run.session() as session:
        early = session.execute(select(Delivery.status).where(
            Delivery.edition_id == run.edition_id, Delivery.subscriber_id.in_(leavers))).scalars().all()
    run.result.notes.append(f"leavers: {dict(Counter(early))}")


@scenario("Pause and resume five times (at 10, 25, 40, 55 and 70% of the send), each time "
          "waiting until the relay is quiet, as ops would with `digest send pause/resume`.")
def pause_resume(run: Run) -> None:
    run.worker("a")
    run.worker("b")
    run.beat()
    run.start_send()
    for at in (0.10, 0.25, 0.40, 0.55, 0.70):
        run.wait_received(at)
        if run.status() != EditionStatus.SENDING:
            raise RuntimeError(f"the send ended before the pause at {at:.0%}")
        with run.session() as session:
            control.pause_send(session, run.edition_id)
        run.wait(run.quiet, "the relay to go quiet after a pause")
        with run.session() as session:
            batches = control.resume_send(session, run.settings, run.edition_id)
        enqueue_batches(run.settings, run.edition_id, batches)


@scenario("Two worker machines on one edition: group A (1 process, 2 connections, batches of "
          "2% of the readers) and group B (2 processes, 6 connections each, batches of 12%), "
          "each with its own settings, on the same queue and database.")
def two_machines(run: Run) -> None:
    run.worker("a", concurrency=1, DIGEST_SMTP_CONNECTIONS="2", DIGEST_BATCH_SIZE=str(max(5, run.size // 50)))
    run.worker("b", concurrency=2, DIGEST_SMTP_CONNECTIONS="6", DIGEST_BATCH_SIZE=str(max(20, run.size // 8)))
    run.beat()
    run.start_send()
    run.wait_sent()
    for name in ("a", "b"):
        log = (run.logs / f"worker-{name}.log").read_text(errors="replace")
        sent = sum(int(n) for n in re.findall(r"batch: (\d+) sent", log))
        run.result.notes.append(f"group {name.upper()} sent {sent}")


def select_scenarios(names: list[str] | None, ci: bool = False) -> list[Scenario]:
    if names:
        unknown = set(names) - {s.name for s in SCENARIOS}
        if unknown:
            raise SystemExit(f"no such scenario: {', '.join(sorted(unknown))}")
        return [s for s in SCENARIOS if s.name in names]
    return [s for s in SCENARIOS if s.ci] if ci else list(SCENARIOS)


def run_suite(scenarios: list[Scenario], subscribers: int, outage_seconds: float, logs: Path,
              echo: Callable[[str], None] = print) -> list[Result]:
    results = []
    with Suite(subscribers, outage_seconds, logs, echo) as suite:
        for item in scenarios:
            result = suite.run(item)
            results.append(result)
            echo(result.line())
            for note in result.notes:
                echo(f"    {note}")
    return results


def summary(results: list[Result]) -> str:
    return (f"chaos: scenarios={len(results)} lost={sum(r.lost for r in results)} "
            f"duplicates={sum(r.duplicates for r in results)} allowed={sum(r.allowed for r in results)}")
