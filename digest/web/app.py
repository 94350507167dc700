"""The web application: ``create_app(settings)`` builds it; nothing is built at import.

Routers are included per area (public pages, links from mail, the click redirect, archive); the staff
console adds its own routers and authentication here.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from starlette.exceptions import HTTPException as StarletteHTTPException

from digest.settings import Settings
from digest.web import archive, clicks, health, hooks, links, metrics, origins, public, staff
from digest.web.deps import page
from digest.web.ratelimit import SignUpLimits

# No scripts anywhere; archived mails keep their inline styles and remote images.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src * data:; style-src 'self' 'unsafe-inline'; "
                               "script-src 'none'; form-action 'self'; frame-ancestors 'none'",
    # Pages behind signed links carry the token in their URL: never leak it in a Referer.
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


def create_app(settings: Settings) -> FastAPI:
    app = FastAPI(title=settings.brand_name, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.settings = settings
    app.state.signup_limits = SignUpLimits(settings)
    for area in (public, links, clicks, archive, metrics):
        app.include_router(area.router)
    health.install(app)
    hooks.install(app, settings)
    # Before the security-headers middleware, so the console's own policy is kept.
    staff.install(app)
    # Inside the security-headers middleware, so CORS answers carry them too.
    origins.install(app, settings)

    @app.middleware("http")
    async def security_headers(request: Request, call_next):
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    @app.exception_handler(StarletteHTTPException)
    async def friendly_errors(request: Request, exc: StarletteHTTPException):
        # People get a page; API clients, providers' webhooks (and 405s etc.) get FastAPI's JSON.
        if request.url.path.startswith(("/api/", "/hooks/")) or "text/html" not in request.headers.get("accept", ""):
            return await http_exception_handler(request, exc)
        return page(request, "message.html", exc.status_code, title="Sorry", message=exc.detail)

    return app
