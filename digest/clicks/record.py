"""Following a tracked link: the story's URL, and a click recorded when a reader made it.

Mail security gateways and link scanners fetch every link of a message, often within
seconds of delivery. They still get the redirect (a refusal would flag the mail), but
these are not counted as readers:

- a made-up reader (id 0: previews, test copies);
- HEAD requests (a person's browser sends GET);
- user agents of known scanners and preview bots;
- a click within `DIGEST_CLICK_IGNORE_SECONDS` of the message's ``sent_at``, or on a
  message the ledger does not show as sent;
- a burst: BURST_STORIES or more of one edition's stories by one reader within
  BURST_SECONDS. The burst's rows are kept with ``counted`` false, so that the rest of it
  is recognised too; they count nowhere (ranking, reports).

A link followed again adds nothing: one row per (reader, edition, story), whatever its
fate was the first time.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, select

from digest.clicks.links import ClickClaim
from digest.models import Click, Delivery, EditionItem, Story, utcnow
from digest.settings import Settings
from digest.subscribers.bulk import upsert

BURST_STORIES = 3
BURST_SECONDS = 3.0

# Security gateways, link-preview and crawler user agents (matched case-insensitively).
SCANNERS = re.compile(
    r"bot\b|crawler|spider|preview|scanner|headless|barracuda|mimecast|proofpoint|urldefense"
    r"|symantec|messagelabs|forcepoint|trend ?micro|sophos|fortiguard|zscaler|safelinks"
    r"|cisco|ironport|appriver|python-requests|go-http-client|curl/|wget/", re.IGNORECASE)


def story_url(session: Session, claim: ClickClaim) -> str | None:
    """The URL of the claimed story, if it is in the claimed edition."""
    return session.exec(select(Story.url).join(EditionItem, EditionItem.story_id == Story.id).where(
        EditionItem.edition_id == claim.edition_id, Story.id == claim.story_id)).first()


def follow(session: Session, settings: Settings, claim: ClickClaim, *, method: str,
           user_agent: str, now: datetime | None = None) -> str | None:
    """Where the link goes (None: no such story in that edition), having recorded the
    click if a reader made it. Commits."""
    url = story_url(session, claim)
    if url is None or not url.startswith(("https://", "http://")):
        return None
    now = now or utcnow()
    if claim.subscriber_id and method == "GET" and not SCANNERS.search(user_agent or "") \
            and _delivered_long_enough_ago(session, settings, claim, now):
        _record(session, claim, now)
        session.commit()
    return url


def _delivered_long_enough_ago(session: Session, settings: Settings, claim: ClickClaim,
                               now: datetime) -> bool:
    sent_at = session.exec(select(Delivery.sent_at).where(
        Delivery.edition_id == claim.edition_id, Delivery.subscriber_id == claim.subscriber_id)).first()
    return sent_at is not None and now - sent_at >= timedelta(seconds=settings.click_ignore_seconds)


def _record(session: Session, claim: ClickClaim, now: datetime) -> None:
    table = Click.__table__
    inserted = session.execute(upsert(session)(table).values(
        subscriber_id=claim.subscriber_id, edition_id=claim.edition_id, story_id=claim.story_id,
        counted=True, created_at=now,
    ).on_conflict_do_nothing(index_elements=["subscriber_id", "edition_id", "story_id"])
        .returning(table.c.id)).first()
    if inserted is None:
        return
    mine = (table.c.subscriber_id == claim.subscriber_id, table.c.edition_id == claim.edition_id,
            table.c.created_at >= now - timedelta(seconds=BURST_SECONDS))
    burst = session.execute(select(table.c.id).where(*mine)).all()
    if len(burst) >= BURST_STORIES:
        session.execute(update(table).where(*mine).values(counted=False))
