"""Rendering an edition: once per variant with sentinel tokens, then personalised cheaply.

The rendered HTML and text carry space-free tokens where per-subscriber values go
(premailer mangles ``{{ x }}`` in attributes; plain tokens survive it). Substituting
escaped values into the tokens gives exactly what rendering that subscriber from scratch
would give, which the tests check.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from zoneinfo import ZoneInfo

from sqlmodel import Session

from digest.curate.editions import items
from digest.models import DigestList, Edition, Source, Story, Subscriber
from digest.render.environment import mail_environment
from digest.render.inline import inline_css
from digest.settings import Settings
from digest.subscribers.tokens import Purpose, make_token

TOKENS = {
    "greeting": "__DIGEST_GREETING__",
    "unsubscribe_url": "__DIGEST_UNSUBSCRIBE_URL__",
    "preferences_url": "__DIGEST_PREFERENCES_URL__",
}


@dataclass(frozen=True)
class Rendered:
    subject: str
    html: str
    text: str


@dataclass(frozen=True)
class Personal:
    """The per-subscriber values that go into the tokens (unescaped)."""

    greeting: str
    unsubscribe_url: str
    preferences_url: str


def personal_values(settings: Settings, subscriber: Subscriber, list_id: int) -> Personal:
    name = " ".join((subscriber.name or "").split())
    return Personal(
        greeting=f"Hi {name}," if name else "Hello,",
        unsubscribe_url=unsubscribe_url(settings, subscriber.id, list_id),
        preferences_url=(f"{settings.public_url}/preferences/"
                         f"{make_token(settings.secret_key, Purpose.PREFERENCES, subscriber.id, list_id)}"),
    )


def unsubscribe_url(settings: Settings, subscriber_id: int, list_id: int) -> str:
    token = make_token(settings.secret_key, Purpose.UNSUBSCRIBE, subscriber_id, list_id)
    return f"{settings.public_url}/unsubscribe/{token}"


def edition_context(session: Session, settings: Settings, edition: Edition) -> dict:
    digest_list = session.get(DigestList, edition.list_id)
    stories = []
    for item in items(session, edition.id):
        story = session.get(Story, item.story_id)
        source = session.get(Source, story.source_id)
        stories.append({
            "headline": item.headline, "summary": item.summary, "section": item.section,
            "url": story.url, "source": source.name, "image_url": story.image_url,
            "published": story.published_at,
        })
    return {
        "brand": settings.brand_name, "postal_address": settings.postal_address,
        "list_name": digest_list.name, "subject": edition.subject,
        "preheader": edition.preheader, "stories": stories,
        "slot": edition.slot.astimezone(ZoneInfo(digest_list.timezone)),
        "archive_url": f"{settings.public_url}/archive/{digest_list.slug}/{edition.id}",
    }


def render_edition(session: Session, settings: Settings, edition: Edition,
                   personal: Personal | None = None) -> Rendered:
    """The edition's mail. Without `personal`: the shared, tokenised rendering."""
    context = edition_context(session, settings, edition)
    env = mail_environment(settings.templates_dir)
    if personal is None:
        values = dict(TOKENS)
    else:
        values = {"greeting": personal.greeting, "unsubscribe_url": personal.unsubscribe_url,
                  "preferences_url": personal.preferences_url}
    context.update(values)
    html = inline_css(env.get_template("digest.html").render(context))
    text = env.get_template("digest.txt").render(context)
    return Rendered(edition.subject, html, text)


def personalise(rendered: Rendered, personal: Personal) -> Rendered:
    html, text = rendered.html, rendered.text
    for field, token in TOKENS.items():
        value = getattr(personal, field)
        html = html.replace(token, escape(value, quote=True))
        text = text.replace(token, value)
    return Rendered(rendered.subject, html, text)



def preview_html(session: Session, settings: Settings, edition: Edition) -> str:
    """The edition exactly as sent, for a made-up reader (editor preview, `editions preview`)."""
    sample = Subscriber(id=0, email="preview@example.com", name="Preview Reader")
    return render_edition(session, settings, edition,
                          personal_values(settings, sample, edition.list_id)).html
