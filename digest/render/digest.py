"""Rendering an edition: once per variant with sentinel tokens, then personalised cheaply.

The rendered HTML and text carry space-free tokens where per-subscriber values go
(premailer mangles ``{{ x }}`` in attributes; plain tokens survive both inliners).
:func:`personalise` substitutes each value escaped exactly as the inliner's serialiser
writes it, so the result is byte for byte what rendering that subscriber from scratch
gives (``render_variant(..., personal=...)``), which the tests check.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass

from sqlmodel import Session

from digest.models import Edition
from digest.render.context import SENTINEL_PREFIX, edition_context, inert
from digest.render.environment import mail_environment
from digest.render.inline import inline_css
from digest.render.variants import ALL, variant_parts
from digest.settings import Settings

# "__DIGEST_GREETING__"...: the prefix is the one that content can never carry (context.inert).
TOKENS = {field: f"{SENTINEL_PREFIX}{field.upper()}__"
          for field in ("greeting", "unsubscribe_url", "preferences_url", "reader")}
_FIELD_OF = {token: field for field, token in TOKENS.items()}
_ANY_TOKEN = re.compile("|".join(map(re.escape, TOKENS.values())))


@dataclass(frozen=True)
class Rendered:
    subject: str
    html: str
    text: str
    stories: tuple[int, ...] = ()  # the story ids it contains, in order


@dataclass(frozen=True)
class Personal:
    """The per-subscriber values that go into the tokens (unescaped)."""

    greeting: str
    unsubscribe_url: str
    preferences_url: str
    # The reader's half of tracked story links (digest.clicks.links); "" for nobody.
    reader: str = ""


def greeting(name: str | None) -> str:
    """"Hi Ada," from a name as people type it: control characters and whitespace (no-break
    spaces included) collapsed to single spaces, sentinel tokens made inert."""
    name = "".join(" " if unicodedata.category(c) in ("Cc", "Cs") else c for c in name or "")
    name = inert(" ".join(name.split()))
    return f"Hi {name}," if name else "Hello,"


def render_variant(session: Session, settings: Settings, edition: Edition, key: str = ALL,
                   personal: Personal | None = None, web_copy: bool = False) -> Rendered:
    """The edition's mail for variant `key` (see digest.render.variants), inlined once.

    Without `personal`: the shared rendering with sentinel tokens, to store as an
    EditionVariant and personalise per subscriber. With it: one subscriber from scratch.
    `web_copy` is the archive's page for nobody in particular: no personal links.
    """
    context = edition_context(session, settings, edition, *variant_parts(key), web_copy=web_copy)
    context.update(TOKENS if personal is None else asdict(personal))
    env = mail_environment(settings.templates_dir)
    html = inline_css(env.get_template("digest.html").render(context), settings.css_inliner)
    text = env.get_template("digest.txt").render(context)
    return Rendered(context["subject"], html, text, tuple(context["story_ids"]))


def render_edition(session: Session, settings: Settings, edition: Edition,
                   personal: Personal | None = None) -> Rendered:
    """The variant with every story (``"all"``)."""
    return render_variant(session, settings, edition, ALL, personal)


# How the inliners' serialisers (libxml2 for premailer, html5ever for css-inline) write text
# and attribute values. They agree on these characters, and differ only on ones that never
# reach a token: no-break spaces (greeting() collapses them) and < > " in URLs (the public
# URL is validated to plain URL characters, signed tokens are URL-safe base64).
_TEXT_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
_ATTRIBUTE_ESCAPES = str.maketrans({"&": "&amp;", '"': "&quot;"})


def personalise(rendered: Rendered, personal: Personal) -> Rendered:
    """`rendered` with the tokens replaced by `personal`'s values, in one pass (a value that
    contains a token is not substituted into again)."""
    html_values = {token: getattr(personal, field).translate(
        _TEXT_ESCAPES if field == "greeting" else _ATTRIBUTE_ESCAPES) for field, token in TOKENS.items()}
    return Rendered(
        rendered.subject,
        _ANY_TOKEN.sub(lambda m: html_values[m.group()], rendered.html),
        _ANY_TOKEN.sub(lambda m: getattr(personal, _FIELD_OF[m.group()]), rendered.text),
        rendered.stories,
    )


#: The web copy's reader: nobody, so a plain greeting and no personal links at all.
NOBODY = Personal(greeting="Hello,", unsubscribe_url="", preferences_url="")


def archive_html(session: Session, settings: Settings, edition: Edition) -> str:
    """"View in browser": the edition with every story and no subscriber data; its footer
    offers the list's sign-up instead of a reader's preferences and unsubscribe links."""
    return render_variant(session, settings, edition, ALL, NOBODY, web_copy=True).html


def preview(session: Session, settings: Settings, edition: Edition, personal: Personal) -> Rendered:
    """The edition exactly as sent, for the reader whose values are `personal` (the editor's
    preview and `editions preview` hand in a made-up reader's)."""
    return personalise(render_edition(session, settings, edition), personal)
