"""The API's own tokens: a caller sees and revokes theirs (an admin, anyone's)."""

from __future__ import annotations

from fastapi import Depends, HTTPException
from sqlmodel import Session

from digest.models import StaffUser
from digest.staff.accounts import (
    AccountError, Permission, can, find_api_token, list_api_tokens, revoke_api_token, token_state,
)
from digest.web.deps import db_session
from digest.web.staff.api.common import anyone, api_router, refusals
from digest.web.staff.api.schemas import TokenOut

router = api_router()


def token_json(row, owner: str) -> dict:
    return {**row.model_dump(include={"id", "name", "created_at", "last_used_at", "expires_at", "revoked_at"}),
            "owner": owner, "state": token_state(row)}


@router.get("/tokens", response_model=list[TokenOut], responses=refusals())
def list_tokens(user: StaffUser = Depends(anyone), session: Session = Depends(db_session)):
    """The caller's API tokens (an admin's: everyone's), newest first; never their values."""
    rows = list_api_tokens(session, None if can(user, Permission.ADMIN) else user)
    return [token_json(row, owner) for row, owner in rows]


@router.delete("/tokens/{token_id}", response_model=TokenOut, responses=refusals(404))
def revoke_token(token_id: int, user: StaffUser = Depends(anyone), session: Session = Depends(db_session)):
    """Revoke one of the caller's tokens (an admin: anyone's); it gets 401 from now on.
    Revoking the token this request came with is allowed: it is the last request it makes."""
    try:
        row = find_api_token(session, str(token_id), None if can(user, Permission.ADMIN) else user)
    except AccountError as exc:
        raise HTTPException(404, str(exc).removeprefix("token: ")) from None
    revoke_api_token(row)
    session.commit()
    owner = session.get(StaffUser, row.user_id).email
    return token_json(row, owner)
