"""The click redirect: ``/r/<reader>/<story part>`` answers 302 to the story's URL.

The target is looked up from the database by the signed ids, never taken from the URL, so
this is no open redirect. A changed link is a 404 and records nothing. GET and HEAD both
redirect (scanners get the same answer as people); which ones count is
digest.clicks.record's business.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse
from sqlmodel import Session

from digest.clicks.links import BadLink, read_link
from digest.clicks.record import follow
from digest.settings import Settings
from digest.web.deps import db_session, settings

router = APIRouter()

NOT_FOUND = "This link is not valid. It may have been cut short or changed."


@router.api_route("/r/{reader}/{story}", methods=["GET", "HEAD"], include_in_schema=False)
def click(request: Request, reader: str, story: str, session: Session = Depends(db_session),
          config: Settings = Depends(settings)):
    try:
        claim = read_link(config.secret_key, reader, story)
    except BadLink:
        raise HTTPException(404, NOT_FOUND) from None
    url = follow(session, config, claim, method=request.method,
                 user_agent=request.headers.get("user-agent", ""))
    if url is None:
        raise HTTPException(404, NOT_FOUND)
    return RedirectResponse(url, status_code=302, headers={
        "Cache-Control": "no-store", "X-Robots-Tag": "noindex, nofollow"})
