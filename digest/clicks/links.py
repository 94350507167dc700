"""The signed parts of a tracked link: ``<public url>/r/<reader>/<story part>``.

Render once, personalise cheaply: the story part (``<edition>.<story>.<mac>``) is the same
for every reader of an edition, so it goes into the shared rendering; the reader part
(``<subscriber>.<mac>``) is the one personal value a message adds. Each MAC is keyed
BLAKE2b (a few microseconds), one key per part, so neither part can stand in for the other:

- the reader part binds the subscriber to the edition (its MAC covers both ids);
- the story part binds the story to the edition.

So a link opens only a story of the edition it came with, for the reader it was sent to,
and the redirect's target is that story's URL from the database: no open redirect.
"""

from __future__ import annotations

import base64
import hmac
import re
from dataclasses import dataclass

from digest import keyed

#: The path of the redirect; the renderer writes links under it.
PREFIX = "/r/"
_PART = re.compile(r"(\d{1,19})\.(\d{1,19})\.([A-Za-z0-9_-]{16})")
_READER = re.compile(r"(\d{1,19})\.([A-Za-z0-9_-]{16})")


class BadLink(ValueError):
    """A tracked link whose parts are malformed or whose signatures do not match."""


@dataclass(frozen=True)
class ClickClaim:
    subscriber_id: int  # 0: a made-up reader (previews, test copies), never recorded
    edition_id: int
    story_id: int


def _mac(secret_key: str, purpose: str, a: int, b: int) -> str:
    digest = keyed.tag(secret_key, f"click.{purpose}", f"{a}.{b}".encode(), 12)
    return base64.urlsafe_b64encode(digest).decode()


def story_part(secret_key: str, edition_id: int, story_id: int) -> str:
    """The shared half of a tracked link (the same for every reader)."""
    return f"{edition_id}.{story_id}.{_mac(secret_key, 'story', edition_id, story_id)}"


def reader_part(secret_key: str, subscriber_id: int, edition_id: int) -> str:
    """The personal half: one per message, whatever the number of stories."""
    return f"{subscriber_id}.{_mac(secret_key, 'reader', subscriber_id, edition_id)}"


def read_link(secret_key: str, reader: str, story: str) -> ClickClaim:
    """What a link's two parts say, or BadLink if either was changed."""
    reader_match, story_match = _READER.fullmatch(reader), _PART.fullmatch(story)
    if reader_match is None or story_match is None:
        raise BadLink("not a link of ours")
    subscriber_id, edition_id, story_id = (int(reader_match.group(1)), int(story_match.group(1)),
                                           int(story_match.group(2)))
    good = (hmac.compare_digest(story_match.group(3), _mac(secret_key, "story", edition_id, story_id))
            & hmac.compare_digest(reader_match.group(2), _mac(secret_key, "reader", subscriber_id, edition_id)))
    if not good:
        raise BadLink("the link's signature does not match")
    return ClickClaim(subscriber_id, edition_id, story_id)
