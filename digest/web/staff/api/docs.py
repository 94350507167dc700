"""The API's description (/api/openapi.json) and its browsable docs (/api/docs), for staff.

The docs page is Swagger UI, served by the app from the files the fastapi-offline package
ships (kept current with Swagger UI's releases), started by a script file of ours: the page
loads nothing from elsewhere, works offline, and its CSP allows scripts from this site only.
"""

from __future__ import annotations

from importlib.resources import files

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import FileResponse, Response

from digest import PROJECT_ROOT
from digest.models import StaffUser
from digest.web.deps import page
from digest.web.staff.api.common import anyone, api_router

_SWAGGER_UI = files("fastapi_offline") / "static"
ASSETS = {
    "swagger-ui-bundle.js": (_SWAGGER_UI / "swagger-ui-bundle.js", "text/javascript"),
    "swagger-ui.css": (_SWAGGER_UI / "swagger-ui.css", "text/css"),
    "favicon.png": (_SWAGGER_UI / "favicon.png", "image/png"),
    "api-docs.js": (PROJECT_ROOT / "templates" / "web" / "staff" / "api-docs.js", "text/javascript"),
}
DOCS_POLICY = ("default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
               "connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'")


def router_for(api: APIRouter) -> APIRouter:
    """The description of `api` (the staff API alone: the app's pages are not an API, made
    once per app) and the docs page that browses it."""
    router = api_router()

    @router.get("/openapi.json", include_in_schema=False)
    def openapi(request: Request, user: StaffUser = Depends(anyone)):
        app = request.app
        if getattr(app.state, "api_schema", None) is None:
            app.state.api_schema = get_openapi(
                title=f"{app.state.settings.brand_name} staff API", version="1",
                description="Everything the staff console does, for scripts. Authenticate with a staff "
                            "API token (`digest users token EMAIL --name NAME`) as "
                            "`Authorization: Bearer dgt_...`.",
                routes=api.routes)
        return app.state.api_schema

    @router.get("/docs", include_in_schema=False)
    def docs(request: Request, user: StaffUser = Depends(anyone)):
        response = page(request, "staff/api-docs.html")
        response.headers["Content-Security-Policy"] = DOCS_POLICY
        return response

    router.add_api_route("/docs/assets/{name}", docs_asset, include_in_schema=False)
    return router


def docs_asset(name: str, user: StaffUser = Depends(anyone)) -> Response:
    if name not in ASSETS:
        raise HTTPException(404, f"no asset {name!r}")
    path, media_type = ASSETS[name]
    return FileResponse(str(path), media_type=media_type, headers={"Cache-Control": "private, max-age=86400"})
