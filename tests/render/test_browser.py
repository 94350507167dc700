"""The digest in a real headless Chromium: a 600 px desktop pane and a 375 px phone, light and
dark. Screenshots go to test-artifacts/ for people to look at; nothing may overflow the phone."""

from __future__ import annotations

import pytest

from digest.render.digest import personalise, render_variant
from digest.subscribers.links import personal_values
from tests.render.specimen import IMAGE_HOST, readers

PHOTO = """<svg xmlns="http://www.w3.org/2000/svg" width="1072" height="604" viewBox="0 0 1072 604">
<defs><linearGradient id="sky" x1="0" y1="0" x2="1" y2="1">
<stop offset="0" stop-color="#7dd3fc"/><stop offset="1" stop-color="#1e3a8a"/></linearGradient></defs>
<rect width="1072" height="604" fill="url(#sky)"/><circle cx="800" cy="180" r="90" fill="#fde68a"/>
<path d="M0 480 L300 300 L520 450 L760 280 L1072 470 L1072 604 L0 604Z" fill="#0f172a" opacity="0.6"/>
</svg>"""
LOGO = """<svg xmlns="http://www.w3.org/2000/svg" width="320" height="80" viewBox="0 0 320 80">
<rect x="0" y="8" width="64" height="64" rx="14" fill="#1d4ed8"/>
<text x="32" y="52" font-family="Georgia, serif" font-size="34" font-weight="bold" fill="#fff"
 text-anchor="middle">D</text>
<text x="80" y="52" font-family="Georgia, serif" font-size="30" font-weight="bold" fill="#1d4ed8">Daily Digest</text>
</svg>"""

OVERFLOW = """(width) => {
  const over = [];
  for (const el of document.body.querySelectorAll('*')) {
    const box = el.getBoundingClientRect();
    if (box.width > 0 && box.right > width + 0.5) over.push(`${el.tagName}.${el.className}: ${box.right}`);
  }
  return {scrollWidth: document.documentElement.scrollWidth, over};
}"""


@pytest.fixture
def mail(sqlite_session, sqlite_settings, specimen) -> str:
    settings = sqlite_settings.model_copy(update={
        "brand_logo_url": f"{IMAGE_HOST}/logo.svg", "brand_logo_width": 160, "brand_logo_height": 40})
    shared = render_variant(sqlite_session, settings, specimen)
    return personalise(shared, personal_values(settings, readers()[1], specimen.list_id)).html


def open_mail(browser, html: str, width: int, scheme: str = "light"):
    page = browser.new_page(viewport={"width": width, "height": 900}, color_scheme=scheme)
    # No network in tests: the mail's https images are served from here.
    page.route(f"{IMAGE_HOST}/**", lambda route: route.fulfill(
        status=200, content_type="image/svg+xml",
        body=LOGO if route.request.url.endswith("logo.svg") else PHOTO))
    page.set_content(html, wait_until="load")
    return page


@pytest.mark.parametrize("width", [600, 375])
def test_the_digest_fits_the_pane_and_the_phone(browser, artifacts, mail, width):
    page = open_mail(browser, mail, width)
    try:
        page.screenshot(path=artifacts / f"digest-{width}.png", full_page=True)
        layout = page.evaluate(OVERFLOW, width)
        loaded = page.evaluate("[...document.images].map(i => i.naturalWidth > 0)")
        headlines = page.locator("a.headline").all_inner_texts()
        story_padding = page.evaluate(
            "getComputedStyle(document.querySelector('.story')).paddingLeft")
    finally:
        page.close()
    assert layout["scrollWidth"] <= width
    assert layout["over"] == []
    assert loaded == [True] * 4  # the logo and three story images (the http one is left out)
    assert len(headlines) == 12
    assert story_padding == "20px"  # the phone layout (below 620 px) is in force in both


def test_the_digest_in_dark_mode(browser, artifacts, mail):
    page = open_mail(browser, mail, 375, scheme="dark")
    try:
        page.screenshot(path=artifacts / "digest-375-dark.png", full_page=True)
        card = page.evaluate("getComputedStyle(document.querySelector('.card')).backgroundColor")
        headline = page.evaluate("getComputedStyle(document.querySelector('.headline')).color")
        layout = page.evaluate(OVERFLOW, 375)
    finally:
        page.close()
    assert card == "rgb(30, 41, 59)" and headline == "rgb(241, 245, 249)"
    assert layout["over"] == []


def test_the_desktop_layout_keeps_the_600px_card(browser, artifacts, mail):
    page = open_mail(browser, mail, 800)
    try:
        page.screenshot(path=artifacts / "digest-800.png")
        width = page.evaluate("document.querySelector('.container').getBoundingClientRect().width")
        padding = page.evaluate("getComputedStyle(document.querySelector('.story')).paddingLeft")
    finally:
        page.close()
    assert width == 600 and padding == "32px"


def test_both_inliners_give_the_same_layout(browser, sqlite_session, sqlite_settings, specimen):
    boxes = {}
    for inliner in ("premailer", "css-inline"):
        settings = sqlite_settings.model_copy(update={"css_inliner": inliner})
        html = personalise(render_variant(sqlite_session, settings, specimen),
                           personal_values(settings, readers()[0], specimen.list_id)).html
        for width in (375, 800):
            page = open_mail(browser, html, width)
            try:
                boxes[inliner, width] = page.evaluate("""() => [...document.querySelectorAll(
                    '.title, .section, .headline, .meta, .story-image, .summary, .readmore, .footer a')]
                    .map(e => { const b = e.getBoundingClientRect();
                                return [e.className, b.x, b.y, b.width, b.height].join(' '); })""")
            finally:
                page.close()
    assert len(boxes["premailer", 375]) == 1 + 12 * 5 + 3 + 2  # title, stories, images, footer
    assert boxes["premailer", 375] == boxes["css-inline", 375]
    assert boxes["premailer", 800] == boxes["css-inline", 800]
