"""/healthz and /readyz for load balancers and orchestrators, and short answers when the
database, the broker or Redis is down in the middle of a request.

/readyz shows only each check's name and state: what failed (hosts, ports, revisions)
goes to the log, not to whoever asks on the public port; `digest check` shows it in full.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse

from digest.diagnose import explain
from digest.health import readiness
from digest.web.deps import page

log = logging.getLogger(__name__)
router = APIRouter()
NO_STORE = {"Cache-Control": "no-store"}


@router.get("/healthz", include_in_schema=False)
def healthz() -> JSONResponse:
    """The process answers (liveness): nothing else is looked at."""
    return JSONResponse({"status": "ok"}, headers=NO_STORE)


@router.get("/readyz", include_in_schema=False)
def readyz(request: Request) -> JSONResponse:
    """The database reachable and migrated to head, the broker and Redis reachable when set."""
    checks = readiness(request.app.state.settings)
    for check in checks:
        if not check.ok:
            log.warning("not ready: %s: %s", check.name, check.detail)
    ready = all(check.ok for check in checks)
    body = {"status": "ready" if ready else "not ready",
            "checks": {check.name: "ok" if check.ok else "failing" for check in checks}}
    return JSONResponse(body, status_code=200 if ready else 503, headers=NO_STORE)


def install(app: FastAPI) -> None:
    app.include_router(router)
    from kombu.exceptions import OperationalError as BrokerError
    from redis.exceptions import ConnectionError as RedisConnectionError
    from sqlalchemy.exc import OperationalError, ProgrammingError

    async def unavailable(request: Request, exc: Exception):
        message = explain(exc, request.app.state.settings)
        if message is None:
            raise exc  # not an outage but a bug: the server's 500 and its traceback
        # One line per failed request, not a traceback each while the database is down.
        log.error("%s %s: %s", request.method, request.url.path, message.replace("\n", "; "))
        if request.url.path.startswith("/api/") or "text/html" not in request.headers.get("accept", ""):
            return JSONResponse({"detail": "service unavailable, try again later"}, status_code=503,
                                headers={"Retry-After": "30"})
        return page(request, "message.html", 503, title="Sorry",
                    message="The service is unavailable for a moment. Please try again later.")

    for error in (OperationalError, ProgrammingError, BrokerError, RedisConnectionError):
        app.add_exception_handler(error, unavailable)
