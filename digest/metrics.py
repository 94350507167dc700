"""Prometheus metrics that each process counts as things happen, and how they are served.

Every process has its own counts (prometheus_client's default registry): the web's
/metrics serves the web process's together with the gauges read from the database and
Redis at scrape time (:mod:`digest.deployment_metrics`); each Celery pool process serves
its own on a port of its own (:func:`serve`, started by digest.celery_app). Names carry
the ``digest_`` prefix and their unit; docs/operations.md lists each with its labels.
"""

from __future__ import annotations

import hmac
import logging
import threading
from wsgiref.simple_server import WSGIRequestHandler, make_server

from prometheus_client import REGISTRY, Counter, Gauge, Histogram, make_wsgi_app
from prometheus_client.exposition import ThreadingWSGIServer

log = logging.getLogger(__name__)

MESSAGES = Counter(
    "digest_messages", "Digest messages by outcome (sent, deferred, bounced, failed, expired, "
    "unknown, skipped) and list slug", ["outcome", "list"])
SMTP_REPLIES = Counter(
    "digest_smtp_replies", "SMTP replies that settled a message (to its data, or the envelope "
    "command that refused it), by code class", ["class"])
BATCH_DURATION = Histogram(
    "digest_batch_duration_seconds", "Wall time of a send batch that claimed rows",
    buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800))
RELAY_CONNECTIONS = Gauge(
    "digest_relay_connections_open", "Connections this process holds open to the SMTP relay")
INGEST_FETCHES = Counter(
    "digest_ingest_fetches", "Feed fetches by outcome (ok, not_modified, error)", ["outcome"])


def smtp_reply(code: int) -> None:
    SMTP_REPLIES.labels(f"{code // 100}xx").inc()


def authorized(token: str | None, header: str | None) -> bool:
    """Whether an Authorization header carries the bearer token (anything goes without one)."""
    if not token:
        return True
    scheme, _, given = (header or "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())


UNAUTHORIZED = b"a bearer token is required (DIGEST_METRICS_TOKEN)\n"


def _guarded(app, token: str | None):
    def guarded(environ, start_response):
        if not authorized(token, environ.get("HTTP_AUTHORIZATION")):
            start_response("401 Unauthorized", [("Content-Type", "text/plain; charset=utf-8"),
                                                ("WWW-Authenticate", "Bearer")])
            return [UNAUTHORIZED]
        return app(environ, start_response)
    return guarded


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args) -> None:  # a line per scrape would drown the worker's log
        pass


def serve(host: str, port: int, token: str | None) -> ThreadingWSGIServer | None:
    """This process's metrics over HTTP at host:port, from a daemon thread. A port that
    cannot be had is logged (metrics are not worth stopping the worker for)."""
    try:
        server = make_server(host, port, _guarded(make_wsgi_app(REGISTRY), token),
                             ThreadingWSGIServer, handler_class=_Quiet)
    except OSError as exc:
        log.error("metrics not served on %s:%s (DIGEST_WORKER_METRICS_HOST, _PORT): %s", host, port, exc)
        return None
    threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()
    log.info("metrics served on http://%s:%s/metrics", host, port)
    return server
