"""Moving CSS from <style> onto elements, which many mail clients require.

Behind one function so that a faster inliner can replace premailer without touching callers.
Callers inline once per edition variant, never per subscriber (premailer costs ~70 ms).
"""

from __future__ import annotations

import logging

from premailer import Premailer

# cssutils warns about every mso-* property; those are intended for Outlook.
logging.getLogger("CSSUTILS").setLevel(logging.CRITICAL)


def inline_css(html: str) -> str:
    return Premailer(
        html,
        allow_network=False,
        keep_style_tags=True,      # media queries and dark mode must stay in <style>
        strip_important=False,
        remove_classes=False,      # the kept @media rules target classes
        disable_validation=True,
        cssutils_logging_level=logging.CRITICAL,
    ).transform()
