"""The personal values of a subscriber's mail: greeting, signed links, and the reader's half
of tracked story links.

Made here and handed to the renderer, which knows nothing of subscribers or tokens.
"""

from __future__ import annotations

from digest.clicks.links import reader_part
from digest.models import Edition, Subscriber
from digest.render.digest import Personal, greeting
from digest.settings import Settings
from digest.subscribers.tokens import Purpose, make_tokens


def personal_values(settings: Settings, subscriber: Subscriber, list_id: int | None,
                    edition_id: int | None = None) -> Personal:
    """From the subscriber as loaded, with no query: the send path calls this per message.
    With `edition_id` (a digest), also the reader's token for that edition's tracked links."""
    unsubscribe, preferences = make_tokens(settings.secret_key, subscriber, list_id,
                                           Purpose.UNSUBSCRIBE, Purpose.PREFERENCES)
    return Personal(
        greeting=greeting(subscriber.name),
        unsubscribe_url=f"{settings.public_url}/unsubscribe/{unsubscribe}",
        preferences_url=f"{settings.public_url}/preferences/{preferences}",
        reader="" if edition_id is None else reader_part(settings.secret_key, subscriber.id, edition_id),
    )


def sample_values(settings: Settings, list_id: int, email: str = "preview@example.com",
                  name: str | None = "Preview Reader", edition_id: int | None = None) -> Personal:
    """A made-up reader's values (previews, the pre-send check, test copies): links of a
    real message's length that open nobody's data (id 0 is never a row), and story links
    that redirect without recording a click."""
    return personal_values(settings, Subscriber(id=0, email=email, name=name), list_id, edition_id)


def preview_values(settings: Settings, edition: Edition) -> Personal:
    """The made-up reader of an edition's previews and pre-send check."""
    return sample_values(settings, edition.list_id, edition_id=edition.id)
