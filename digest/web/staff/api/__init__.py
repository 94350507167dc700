"""The JSON API for scripts: everything the console does, with per-user API tokens
(`Authorization: Bearer dgt_...`, made by `digest users token`). Described at
/api/openapi.json, browsable at /api/docs."""

from __future__ import annotations

from fastapi import APIRouter

from digest.web.staff.api import docs, editions, lists, sources, tokens

router = APIRouter()
for area in (editions, lists, sources, tokens):
    router.include_router(area.router)
router.include_router(docs.router_for(router))
