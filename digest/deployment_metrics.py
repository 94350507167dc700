"""Gauges read when /metrics is scraped, about the deployment rather than one process:
editions by status, each list's last completed send and how stale each feed is (from the
database), and the depth of the send queue (from Redis).

Each is one aggregate query over a small table, so a scrape every 15 s costs little. A
store that cannot be read leaves its gauges out and sets digest_scrape_source_up to 0,
rather than failing the scrape of everything else.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, select

from digest.db import get_engine
from digest.models import DigestList, Edition, EditionStatus, Source, utcnow
from digest.settings import Settings

log = logging.getLogger(__name__)


class DeploymentCollector(Collector):
    def __init__(self, settings: Settings):
        self.settings = settings

    def collect(self) -> Iterator[GaugeMetricFamily]:
        up = GaugeMetricFamily("digest_scrape_source_up",
                               "Whether this scrape could read the store (1) or not (0)", labels=["source"])
        try:
            families = self._database()
        except SQLAlchemyError as exc:
            log.warning("metrics: the database cannot be read: %s", str(exc).splitlines()[0])
            families = []
        up.add_metric(["database"], 1 if families else 0)
        broker = self.settings.broker_url or ""
        if broker.startswith(("redis://", "rediss://")):
            queue = self._queue(broker)
            up.add_metric(["redis"], 1 if queue else 0)
            families += queue
        yield from families
        yield up

    def _database(self) -> list[GaugeMetricFamily]:
        now = utcnow()
        with Session(get_engine(self.settings.database_url)) as session:
            by_status = dict(session.exec(select(Edition.status, func.count()).group_by(Edition.status)).all())
            last_sent = session.exec(
                select(DigestList.slug, func.max(Edition.sent_at)).join(Edition, Edition.list_id == DigestList.id)
                .where(Edition.status == EditionStatus.SENT).group_by(DigestList.slug)).all()
            feeds = session.exec(select(Source.id, Source.name, Source.last_success_at, Source.created_at)
                                 .where(Source.active, Source.url.startswith("http"))).all()
        editions = GaugeMetricFamily("digest_editions", "Editions by status", labels=["status"])
        for status in EditionStatus:
            editions.add_metric([status.value], by_status.get(status.value, 0))
        completed = GaugeMetricFamily(
            "digest_last_send_completed_timestamp_seconds",
            "When the last send of each list completed (every delivery settled), Unix time",
            labels=["list"])
        for slug, sent_at in last_sent:
            completed.add_metric([slug], sent_at.timestamp())
        stale = GaugeMetricFamily(
            "digest_feed_staleness_seconds",
            "Seconds since each active feed was last fetched successfully (since it was added, "
            "if never)", labels=["source_id", "source"])
        for source_id, name, success, created in feeds:
            stale.add_metric([str(source_id), name], (now - (success or created)).total_seconds())
        return [editions, completed, stale]

    def _queue(self, broker_url: str) -> list[GaugeMetricFamily]:
        import redis

        try:
            depth = redis.Redis.from_url(broker_url, socket_timeout=2).llen(self.settings.celery_queue)
        except redis.RedisError as exc:
            log.warning("metrics: the broker's queue cannot be read: %s", exc)
            return []
        gauge = GaugeMetricFamily("digest_queue_depth_tasks",
                                  "Tasks waiting in the Celery queue (not yet taken by a worker)",
                                  labels=["queue"])
        gauge.add_metric([self.settings.celery_queue], depth)
        return [gauge]
