"""What the API's modules share: who may call, and the refusals each operation documents."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException

from digest.staff.accounts import Permission
from digest.web.staff.api.schemas import Problem
from digest.web.staff.auth import require

anyone = require()
editor_only = require(Permission.EDIT)
ops_only = require(Permission.OPERATE)

_MEANING = {
    401: "No credentials, or a token that is unknown, expired or revoked.",
    403: "The caller's role may not do this.",
    404: "No such item.",
    409: "Refused in the item's current state (the reason is in `detail`).",
}


def refusals(*codes: int) -> dict:
    """The `responses` of an operation: 401 always, and `codes`. 422 is FastAPI's own: a
    request that does not match the schema (`detail` a list), or a value the service refused
    (`detail` a sentence)."""
    return {code: {"model": Problem, "description": _MEANING[code]} for code in (401, *codes)}


def api_router() -> APIRouter:
    return APIRouter(prefix="/api", tags=["staff"])


def refused(exc: Exception) -> HTTPException:
    return HTTPException(409, str(exc))
