"""Transactional mails (confirm, welcome, goodbye): one recipient each, rendered directly.

They extend the same ``base.html`` as the digest, so they look like the newsletter. No
sentinel tokens: each is rendered for its one reader, and inlined once (a few a day per
person, so premailer's cost does not matter here).
"""

from __future__ import annotations

from digest.render.context import brand_context
from digest.render.digest import Rendered
from digest.render.environment import mail_environment
from digest.render.inline import inline_css
from digest.settings import Settings

#: The mails this module renders; each is ``templates/email/<name>.html`` and ``.txt``.
KINDS = ("confirm", "welcome", "goodbye")


def render_transactional(settings: Settings, kind: str, *, subject: str, preheader: str,
                         list_name: str, preferences_url: str, unsubscribe_url: str,
                         **extra) -> Rendered:
    """Render one transactional mail; `extra` holds the template's own values (e.g. confirm_url)."""
    if kind not in KINDS:
        raise ValueError(f"unknown transactional mail {kind!r}")
    context = {
        **brand_context(settings),
        "list_name": list_name, "subject": subject, "preheader": preheader,
        "preferences_url": preferences_url, "unsubscribe_url": unsubscribe_url, **extra,
    }
    env = mail_environment(settings.templates_dir)
    html = inline_css(env.get_template(f"{kind}.html").render(context), settings.css_inliner)
    text = env.get_template(f"{kind}.txt").render(context)
    return Rendered(subject, html, text)
