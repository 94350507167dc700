"""Moving CSS from <style> onto elements, which many mail clients require.

Two inliners behind one function, chosen by ``DIGEST_CSS_INLINER``: premailer (the default,
pure Python, ~70 ms a digest) and css-inline (Rust, ~2 ms). Callers inline once per edition
variant, never per subscriber.

Both are set up to give the same mail in effect: rules that match are written onto the
elements; @media rules (phone layout, dark mode) stay in a <style> with their ``!important``;
the ``<style data-css-inline="keep" data-premailer="ignore">`` block of client hacks is left
as written; nothing is fetched from the network; width and height attributes come from the
template, never from CSS (premailer would turn an image's ``width: 100%`` into
``width="100%"``, which Outlook draws at the container's full width).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

import css_inline
from premailer import Premailer

# cssutils (under premailer) warns about every mso-* property, which is meant for Outlook
# only; its logger writes to stderr through its own handler, so silence it at the source.
_CSSUTILS_LOG = logging.getLogger("CSSUTILS")
_CSSUTILS_LOG.setLevel(logging.CRITICAL)
_CSSUTILS_LOG.propagate = False


def _premailer(html: str) -> str:
    return Premailer(
        html,
        allow_network=False,
        allow_loading_external_files=False,
        keep_style_tags=False,         # the <style> keeps only what cannot be inlined (@media)
        strip_important=False,         # kept @media rules must beat the inlined styles
        remove_classes=False,          # the kept @media rules target classes
        disable_basic_attributes=["width", "height"],
        disable_validation=True,
        cssutils_logging_level=logging.CRITICAL,
    ).transform()


_CSS_INLINE = css_inline.CSSInliner(keep_at_rules=True, load_remote_stylesheets=False)

INLINERS: dict[str, Callable[[str], str]] = {
    "premailer": _premailer,
    "css-inline": _CSS_INLINE.inline,
}


# cssutils resolves @import by fetching the URL whatever premailer's allow_network says.
_STYLE_IMPORT = re.compile(r"<style\b[^>]*>[^<]*@import", re.IGNORECASE)


def inline_css(html: str, inliner: str = "premailer") -> str:
    """`html` with its stylesheet inlined by the named inliner (a key of INLINERS)."""
    try:
        transform = INLINERS[inliner]
    except KeyError:
        raise ValueError(f"unknown CSS inliner {inliner!r}: use one of {sorted(INLINERS)}") from None
    if _STYLE_IMPORT.search(html):
        raise ValueError("a mail template's <style> uses @import, which would be fetched "
                         "from the network: put the rules in templates/email/digest.css")
    return transform(html)
