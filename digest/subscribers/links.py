"""The personal values of a subscriber's mail: greeting and signed links.

Made here and handed to the renderer, which knows nothing of subscribers or tokens.
"""

from __future__ import annotations

from digest.models import Subscriber
from digest.render.digest import Personal, greeting
from digest.settings import Settings
from digest.subscribers.tokens import Purpose, make_tokens


def personal_values(settings: Settings, subscriber: Subscriber, list_id: int | None) -> Personal:
    """From the subscriber as loaded, with no query: the send path calls this per message."""
    unsubscribe, preferences = make_tokens(settings.secret_key, subscriber, list_id,
                                           Purpose.UNSUBSCRIBE, Purpose.PREFERENCES)
    return Personal(
        greeting=greeting(subscriber.name),
        unsubscribe_url=f"{settings.public_url}/unsubscribe/{unsubscribe}",
        preferences_url=f"{settings.public_url}/preferences/{preferences}",
    )


def sample_values(settings: Settings, list_id: int, email: str = "preview@example.com",
                  name: str | None = "Preview Reader") -> Personal:
    """A made-up reader's values (previews, the pre-send check, test copies): links of a
    real message's length that open nobody's data (id 0 is never a row)."""
    return personal_values(settings, Subscriber(id=0, email=email, name=name), list_id)
