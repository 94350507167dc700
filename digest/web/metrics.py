"""/metrics: Prometheus text format, for the scraper only when DIGEST_METRICS_TOKEN is set.

The web process's own counts and the deployment's gauges read at scrape time; the workers
serve their own counts (see docs/operations.md)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from digest import metrics
from digest.deployment_metrics import DeploymentCollector

router = APIRouter()


class _Scrape:
    """One exposition of several collectors: the process's registry is global, while the
    deployment's gauges belong to this app (its settings name the database)."""

    def __init__(self, *collectors):
        self.collectors = collectors

    def collect(self):
        for collector in self.collectors:
            yield from collector.collect()


@router.get("/metrics", include_in_schema=False)
def scrape(request: Request) -> Response:
    settings = request.app.state.settings
    if not metrics.authorized(settings.metrics_token, request.headers.get("authorization")):
        return Response(metrics.UNAUTHORIZED, 401, {"WWW-Authenticate": "Bearer"}, media_type="text/plain")
    body = generate_latest(_Scrape(REGISTRY, DeploymentCollector(settings)))
    return Response(body, media_type=CONTENT_TYPE_LATEST)
