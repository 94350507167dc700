"""What an editor does to a draft: reorder, remove, add by URL, pin, edit the words.

Each operation is a plain function over a session that the CLI and the web console both
call. Only a draft can be changed: an approved, sending or sent edition raises
EditionError saying so. Positions are 0-based here (the CLI shows them from 1).

While the subject and preheader are still the ones derived from the headlines, they
follow the edits; once an editor has written their own, they are left alone.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from sqlmodel import Session, select

from digest.curate.editions import (
    EditionError, already_sent, items, new_item, preheader_for, subject_for,
)
from digest.ingest.article import extract_article
from digest.ingest.clean import canonical_url
from digest.ingest.fetch import FetchError, FetchLimits, fetch
from digest.ingest.language import language_of
from digest.ingest.service import get_or_create_source
from digest.models import (
    DigestList, Edition, EditionItem, EditionStatus, Story, StorySource, utcnow,
)

# Hand-added stories hang off this source; ingest never polls it (not an http URL).
EDITOR_PICKS_URL = "digest:editor-picks"
EDITOR_PICKS_NAME = "Editor picks"
HEADLINE_MAX = 300
SUMMARY_MAX = 1200
SUBJECT_MAX = 300
PREHEADER_MAX = 300
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def draft(session: Session, edition_id: int) -> Edition:
    """The edition, if it can still be edited."""
    edition = session.get(Edition, edition_id)
    if edition is None:
        raise EditionError(f"no edition {edition_id}")
    if edition.status != EditionStatus.DRAFT:
        raise EditionError(f"edition {edition_id} is {edition.status}: only a draft can be "
                           f"edited")
    return edition


def move_item(session: Session, edition_id: int, item_id: int, position: int) -> EditionItem:
    """Move an item to `position`; the others close up around it."""
    with _changing(session, edition_id) as current:
        item = _item(current, item_id, edition_id)
        if not 0 <= position < len(current):
            raise EditionError(f"position {position + 1} is outside 1..{len(current)}")
        current.remove(item)
        current.insert(position, item)
    return item


def remove_item(session: Session, edition_id: int, item_id: int) -> None:
    with _changing(session, edition_id) as current:
        item = _item(current, item_id, edition_id)
        current.remove(item)
        session.delete(item)


def pin_item(session: Session, edition_id: int, item_id: int, pinned: bool = True) -> EditionItem:
    """Pin an item: it moves to the top and leads the edition. Unpinning leaves it in place."""
    with _changing(session, edition_id) as current:
        item = _item(current, item_id, edition_id)
        item.pinned = pinned
        if pinned:
            current.remove(item)
            current.insert(0, item)
    return item


def edit_item(session: Session, edition_id: int, item_id: int, *, headline: str | None = None,
              summary: str | None = None) -> EditionItem:
    with _changing(session, edition_id) as current:
        item = _item(current, item_id, edition_id)
        if headline is not None:
            item.headline = _text("headline", headline, HEADLINE_MAX)
        if summary is not None:
            item.summary = _text("summary", summary, SUMMARY_MAX, multiline=True)
    return item


def edit_envelope(session: Session, edition_id: int, *, subject: str | None = None,
                  preheader: str | None = None, subject_b: str | None = None) -> Edition:
    """Set the subject line, the preheader and/or a second subject to test against the
    first (all single lines: they go into headers; an empty `subject_b` ends the test).
    What an editor writes stays as written in every variant of the edition."""
    edition = draft(session, edition_id)
    # A form sends every field: only a changed one becomes the editor's own.
    if subject is not None and (value := _text("subject", subject, SUBJECT_MAX)) != edition.subject:
        edition.subject, edition.subject_written = value, True
    if preheader is not None and (
            value := _text("preheader", preheader, PREHEADER_MAX, required=False)) != edition.preheader:
        edition.preheader, edition.preheader_written = value, True
    if subject_b is not None:
        edition.subject_b = _text("second subject", subject_b, SUBJECT_MAX, required=False) or None
    return edition


def add_story(session: Session, edition_id: int, url: str, *, position: int | None = None,
              limits: FetchLimits = FetchLimits(), now: datetime | None = None) -> EditionItem:
    """Add the story at `url`: the stored one with that canonical URL, or else the page
    fetched and stored as a hand-added story under the "Editor picks" source. It goes at
    `position`, or after the last item."""
    edition = draft(session, edition_id)
    story = session.exec(select(Story).where(Story.canonical_url == canonical_url(url))).one_or_none()
    if story is None:
        story = _fetch_story(session, edition, url, limits=limits, now=now)
    elif story.blocked:
        raise EditionError(f"{url} is blocked and cannot be added")
    if session.exec(already_sent(edition.list_id).where(EditionItem.story_id == story.id)).first():
        raise EditionError(f"{url} was already sent in an earlier edition of this list")
    with _changing(session, edition_id) as current:
        if any(i.story_id == story.id for i in current):
            raise EditionError(f"{url} is already in edition {edition_id}")
        where = len(current) if position is None else position
        if not 0 <= where <= len(current):
            raise EditionError(f"position {where + 1} is outside 1..{len(current) + 1}")
        item = new_item(edition, story, where)
        session.add(item)
        current.insert(where, item)
    return item


def _fetch_story(session: Session, edition: Edition, url: str, *, limits: FetchLimits,
                 now: datetime | None) -> Story:
    try:
        result = fetch(url, limits)
    except FetchError as exc:
        raise EditionError(f"cannot add {url}: {exc}") from None
    article = extract_article(result.content or b"", result.url)
    if article is None:
        raise EditionError(f"cannot add {url}: no article text found on the page")
    digest_list = session.get(DigestList, edition.list_id)
    section = digest_list.sections[0] if digest_list.sections else "news"
    source = get_or_create_source(session, url=EDITOR_PICKS_URL, name=EDITOR_PICKS_NAME,
                                  section=section)
    story = Story(source_id=source.id, canonical_url=canonical_url(url), url=url,
                  title=article.title or url, summary_html=html.escape(article.description),
                  text=article.text, author=article.author, image_url=article.image_url,
                  section=section, published_at=now or utcnow(),
                  language=language_of(None, article.title, article.text))
    session.add(story)
    session.flush()
    session.add(StorySource(story_id=story.id, source_id=source.id, url=url))
    return story


@contextmanager
def _changing(session: Session, edition_id: int) -> Iterator[list[EditionItem]]:
    """The draft's items as a list to rearrange; on exit, positions are renumbered and a
    derived subject and preheader follow the new headlines."""
    edition = draft(session, edition_id)
    current = items(session, edition_id)
    before = [i.headline for i in current]
    derived_subject = not edition.subject_written and edition.subject == subject_for(before)
    derived_preheader = not edition.preheader_written and edition.preheader == preheader_for(before)
    yield current
    for position, item in enumerate(current):
        item.position = position
    after = [i.headline for i in current]
    if derived_subject:
        edition.subject = subject_for(after)
    if derived_preheader:
        edition.preheader = preheader_for(after)
    session.flush()


def _item(current: list[EditionItem], item_id: int, edition_id: int) -> EditionItem:
    for item in current:
        if item.id == item_id:
            return item
    raise EditionError(f"edition {edition_id} has no item {item_id}")


def _text(field: str, value: str, limit: int, *, required: bool = True,
          multiline: bool = False) -> str:
    """Clean text with spaces collapsed; control characters refused (line breaks too,
    unless `multiline`: a subject or headline with a newline could forge a mail header)."""
    if _CONTROL.search(re.sub(r"[\r\n\t]", " ", value) if multiline else value):
        raise EditionError(f"{field} must be a single line without control characters"
                           if not multiline else f"{field} contains control characters")
    value = " ".join(value.split())
    if required and not value:
        raise EditionError(f"{field} cannot be empty")
    if len(value) > limit:
        raise EditionError(f"{field} is {len(value)} characters, at most {limit} are allowed")
    return value
