"""base.html as the transactional mails use it: only the documented names, blocks replaceable."""

from __future__ import annotations

import lxml.html

from digest.render.context import brand_context
from digest.render.environment import mail_environment
from digest.render.inline import inline_css

NEEDED = {
    "brand": "Example Daily", "postal_address": "1 Example Street, Springfield",
    "list_name": "Morning <Brief>", "subject": "Please confirm", "preheader": "One click left",
    "preferences_url": "https://news.example.org/preferences/t", "unsubscribe_url": "https://news.example.org/unsubscribe/t",
}
CHILD = ('{% extends "base.html" %}{% block body %}<tr><td class="greeting">Confirm, please.</td></tr>'
         "{% endblock %}")


def render(source: str, context: dict, settings) -> lxml.html.HtmlElement:
    template = mail_environment(settings.templates_dir).from_string(source)
    return lxml.html.document_fromstring(inline_css(template.render(context)))


def test_a_child_with_only_the_documented_names_gets_the_whole_layout(sqlite_settings):
    page = render(CHILD, NEEDED, sqlite_settings)
    text = page.text_content()
    assert "Confirm, please." in text and "You are receiving Morning <Brief>" in text
    assert page.xpath("//a[@href='https://news.example.org/unsubscribe/t']")
    assert page.xpath("//a[@href='https://news.example.org/preferences/t']")
    assert "1 Example Street, Springfield" in text and page.find(".//title").text == "Please confirm"
    assert page.xpath("//table[@role='presentation']") and not page.xpath("//img")


def test_the_footer_block_can_be_replaced_and_the_brand_comes_from_settings(sqlite_settings):
    settings = sqlite_settings.model_copy(update={
        "brand_color": "#0f766e", "brand_logo_url": "https://cdn.example.org/logo.png"})
    child = CHILD + '{% block footer %}<tr><td class="footer">Sent once, on request.</td></tr>{% endblock %}'
    page = render(child, {**NEEDED, **brand_context(settings)}, settings)
    assert "Sent once, on request." in page.text_content()
    assert not page.xpath("//a[contains(@href, '/unsubscribe/')]")
    logo = page.find(".//img")
    assert (logo.get("src"), logo.get("alt"), logo.get("width"), logo.get("height")) == (
        "https://cdn.example.org/logo.png", settings.brand_name, "160", "40")
    assert "#0f766e" in page.find_class("accent")[0].get("style")


def test_the_text_layout_gives_a_child_the_brand_and_the_footer(sqlite_settings):
    env = mail_environment(sqlite_settings.templates_dir)
    text = env.from_string('{% extends "base.txt" %}{% block body %}Confirm, please.\n{% endblock %}'
                           ).render(NEEDED)
    assert text.startswith("EXAMPLE DAILY\n\nConfirm, please.\n\n--\n")
    assert "Unsubscribe: https://news.example.org/unsubscribe/t\n" in text
    assert text.endswith("Example Daily · 1 Example Street, Springfield\n")
