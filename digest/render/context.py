"""What the mail templates are given: the brand from settings and an edition's stories.

Everything here is shared by every subscriber of a variant; per-subscriber values
(greeting, unsubscribe and preferences links) are added by digest.render.digest.
Dates are formatted here, in the list's time zone, so the HTML and text parts agree.
"""

from __future__ import annotations

import hmac
from datetime import datetime
from zoneinfo import ZoneInfo

from itsdangerous import Signer
from sqlmodel import Session, select

from digest.clicks.links import PREFIX as CLICK_PREFIX
from digest.clicks.links import story_part
from digest.curate.editions import preheader_for, subject_for
from digest.models import DigestList, Edition, EditionItem, EditionStatus, Source, Story
from digest.render.variants import variant_stories
from digest.settings import Settings

# The sentinel tokens all start with this. Text from feeds or editors that happens to contain
# it gets a zero-width joiner so that personalisation can never substitute into it.
SENTINEL_PREFIX = "__DIGEST_"
_INERT_PREFIX = "__DIGEST\u2060_"


def inert(text: str) -> str:
    return text.replace(SENTINEL_PREFIX, _INERT_PREFIX)


def brand_context(settings: Settings) -> dict:
    """The names base.html uses for the sender's look and footer (every mail needs these)."""
    logo = None
    if settings.brand_logo_url:
        logo = {"url": settings.brand_logo_url, "width": settings.brand_logo_width,
                "height": settings.brand_logo_height}
    return {
        "brand": settings.brand_name, "postal_address": settings.postal_address,
        "brand_color": settings.brand_color, "brand_color_dark": settings.brand_color_dark,
        "logo": logo, "home_url": settings.public_url,
    }


def edition_context(session: Session, settings: Settings, edition: Edition,
                    topics: frozenset[str] | None = None, skip: frozenset[int] = frozenset(),
                    web_copy: bool = False) -> dict:
    """The template context of `edition`, with only the stories of `topics` when given and
    without those in `skip` (digest.render.variants.variant_stories says which).

    Story links go through the click redirect (``click_prefix`` + the reader's token +
    ``story.click``) unless click tracking is off (`DIGEST_TRACK_CLICKS`, the list's switch)
    or this is the web copy, which is nobody's.

    A variant whose stories are not the edition's gets its own subject and preheader, made
    the way the curator makes the edition's, naming only stories it contains; a subject or
    preheader that an editor wrote stays as written. ``story_ids`` lists what it contains.
    """
    digest_list = session.get(DigestList, edition.list_id)
    zone = ZoneInfo(digest_list.timezone)
    rows = session.exec(
        select(EditionItem, Story, Source)
        .join(Story, Story.id == EditionItem.story_id).join(Source, Source.id == Story.source_id)
        .where(EditionItem.edition_id == edition.id).order_by(EditionItem.position)).all()
    found = {item.id: (item, story, source) for item, story, source in rows}
    items = [item for item, _, _ in rows if not item.reserve]
    chosen = variant_stories(items, [item for item, _, _ in rows if item.reserve], topics, skip)
    tracked = settings.track_clicks and digest_list.track_clicks and not web_copy
    stories = [_story(*found[item.id], zone,
                      story_part(settings.secret_key, edition.id, item.story_id) if tracked else "")
               for item in chosen]
    subject, preheader = edition.subject, edition.preheader
    if [i.story_id for i in chosen] != [i.story_id for i in items]:
        headlines = [item.headline for item in chosen]
        subject = edition.subject if edition.subject_written else subject_for(headlines)
        preheader = edition.preheader if edition.preheader_written else preheader_for(headlines)
    return {
        **brand_context(settings),
        "list_name": inert(digest_list.name),
        "subject": inert(subject),
        "preheader": inert(preheader),
        "date_label": _date(edition.slot.astimezone(zone)),
        "archive_url": archive_url(settings, digest_list.slug, edition),
        "subscribe_url": f"{settings.public_url}/subscribe/{digest_list.slug}",
        "stories": stories,
        "story_ids": [item.story_id for item in chosen],
        "click_prefix": f"{settings.public_url}{CLICK_PREFIX}" if tracked else "",
        "web_copy": web_copy,
    }


#: Editions whose mail has gone out: their web copy is public.
PUBLISHED = frozenset({EditionStatus.SENDING, EditionStatus.PAUSED, EditionStatus.SENT,
                       EditionStatus.CANCELLED})


def _view_key(secret_key: str, edition_id: int) -> str:
    # Untimed, so that every rendering of one edition is the same text (render once).
    return Signer(secret_key, salt="digest.view").get_signature(str(edition_id)).decode()


def archive_url(settings: Settings, slug: str, edition: Edition) -> str:
    """"View in browser": the public archive page once the mail has gone out; before that
    (a test copy of a draft) the same page with a signed key, so only holders of a copy
    can open an edition nobody has received yet."""
    url = f"{settings.public_url}/archive/{slug}/{edition.id}"
    if edition.status in PUBLISHED:
        return url
    return f"{url}?key={_view_key(settings.secret_key, edition.id)}"


def may_view(settings: Settings, edition: Edition, key: str | None) -> bool:
    """Whether the web copy of `edition` may be shown to a visitor holding `key` (or none)."""
    if edition.status in PUBLISHED and edition.send_started_at is not None:
        return True
    return bool(key) and hmac.compare_digest(key, _view_key(settings.secret_key, edition.id))


def _story(item: EditionItem, story: Story, source: Source, zone: ZoneInfo, click: str) -> dict:
    image = story.image_url if (story.image_url or "").startswith("https://") else None
    return {
        "headline": inert(item.headline), "summary": inert(item.summary),
        "section": inert(item.section), "source": inert(source.name), "url": story.url,
        "click": click,  # the shared half of the tracked link, "" when links go straight
        # Only https images: mail clients block or warn about plain http ones.
        "image_url": image,
        "when": _time(story.published_at.astimezone(zone)),
    }


def _date(moment: datetime) -> str:
    return f"{moment:%A} {moment.day} {moment:%B %Y}"


def _time(moment: datetime) -> str:
    return f"{moment.day} {moment:%b}, {moment:%H:%M} {moment:%Z}"
