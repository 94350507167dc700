"""Render once, personalise cheaply, and get exactly what rendering from scratch gives."""

from __future__ import annotations

import lxml.html
import pytest

from digest.render.digest import TOKENS, archive_html, personalise, preview, render_variant
from digest.subscribers.links import personal_values, sample_values
from digest.render.variants import variant_key
from tests.render.specimen import STORIES, readers, specimen_edition

INLINERS = ["premailer", "css-inline"]


@pytest.mark.parametrize("inliner", INLINERS)
@pytest.mark.parametrize("key", ["all", variant_key(["business"])])
def test_personalised_equals_a_from_scratch_render_for_every_reader(
        sqlite_session, sqlite_settings, specimen, inliner, key):
    settings = sqlite_settings.model_copy(update={"css_inliner": inliner})
    shared = render_variant(sqlite_session, settings, specimen, key)
    for reader in readers():
        personal = personal_values(settings, reader, specimen.list_id, specimen.id)
        from_scratch = render_variant(sqlite_session, settings, specimen, key, personal)
        personalised = personalise(shared, personal)
        # Every story link carries this reader's click token.
        assert personalised.text.count(f"/r/{personal.reader}/") == personalised.text.count("Read more:") > 0
        assert personalised.html.count(f"/r/{personal.reader}/") == personalised.html.count("/r/") > 0
        assert personalised.html.encode() == from_scratch.html.encode(), reader.name
        assert personalised.text.encode() == from_scratch.text.encode(), reader.name
        assert personalised.subject == from_scratch.subject


def test_names_are_escaped_in_html_and_plain_in_text(sqlite_session, sqlite_settings, specimen):
    shared = render_variant(sqlite_session, sqlite_settings, specimen)
    by_id = {r.id: personal_values(sqlite_settings, r, specimen.list_id) for r in readers()}

    quoted = personalise(shared, by_id[103])
    assert 'Hi Zoë "Z" &lt;b&gt;Bold&lt;/b&gt; &amp; Co, here are' in quoted.html
    assert 'Hi Zoë "Z" <b>Bold</b> & Co, here are' in quoted.text

    injected = personalise(shared, by_id[104])
    assert "Hi {{ 7*7 }} {% if 1 %}x{% endif %} __DIGEST\u2060_UNSUBSCRIBE_URL__," in injected.html
    assert "49" not in injected.text.split("here are")[0]

    # Control characters dropped, the no-break space and the tab collapsed to one space.
    assert "Hi 李小龙 🦊 tab end, here are" in personalise(shared, by_id[105]).text
    assert "Hello, here are today's 12 top stories." in personalise(shared, by_id[106]).text

    for personal in by_id.values():
        mail = personalise(shared, personal)
        assert "__DIGEST_" not in mail.html + mail.text
        assert f'href="{personal.unsubscribe_url}"' in mail.html
        assert f"Unsubscribe: {personal.unsubscribe_url}" in mail.text
        assert f'href="{personal.preferences_url}"' in mail.html


@pytest.mark.parametrize("inliner", INLINERS)
def test_story_text_with_markup_or_template_syntax_stays_inert(sqlite_session, sqlite_settings, inliner):
    settings = sqlite_settings.model_copy(update={"css_inliner": inliner})
    hostile = [("tech", "Pwn <Weekly>", "<script>alert(1)</script> costs {{ 7*7 }} & {% raw %}",
                "{% if true %}yes{% endif %} __DIGEST_GREETING__ <img src=x onerror=alert(1)> {{ brand }}",
                None)]
    edition = specimen_edition(sqlite_session, hostile + STORIES[:2])
    reader = readers()[0]
    personal = personal_values(settings, reader, edition.list_id)
    mail = personalise(render_variant(sqlite_session, settings, edition), personal)

    assert mail == render_variant(sqlite_session, settings, edition, personal=personal)
    document = lxml.html.document_fromstring(mail.html)
    assert not document.xpath("//script | //img[@src='x'] | //*[@onerror]")
    assert "&lt;script&gt;alert(1)&lt;/script&gt; costs {{ 7*7 }} &amp; {% raw %}" in mail.html
    assert "{% if true %}yes{% endif %} __DIGEST\u2060_GREETING__ &lt;img" in mail.html
    assert "{{ brand }}" in mail.html and "Pwn &lt;Weekly&gt;" in mail.html
    assert mail.html.count("Hi Ada Lovelace,") == 1
    # The plain-text part shows the text as written: nothing in it is interpreted.
    assert "<script>alert(1)</script> costs {{ 7*7 }} & {% raw %}" in mail.text
    assert "{% if true %}yes{% endif %} __DIGEST\u2060_GREETING__" in mail.text
    assert mail.text.count("Hi Ada Lovelace,") == 1


def test_a_value_holding_a_token_is_not_substituted_into_again(sqlite_session, sqlite_settings, specimen):
    shared = render_variant(sqlite_session, sqlite_settings, specimen)
    personal = personal_values(sqlite_settings, readers()[0], specimen.list_id)
    sneaky = type(personal)(greeting=TOKENS["unsubscribe_url"], unsubscribe_url=personal.unsubscribe_url,
                            preferences_url=personal.preferences_url)
    assert TOKENS["unsubscribe_url"] in personalise(shared, sneaky).text


def test_the_web_copy_has_no_subscriber_data_and_offers_the_sign_up(
        sqlite_session, sqlite_settings, specimen):
    html = archive_html(sqlite_session, sqlite_settings, specimen)
    assert "__DIGEST_" not in html and "Hello, here are today's 12 top stories." in html
    # No reader: no preferences or unsubscribe link (they would open nobody's data), no link
    # to itself, one link to the list's sign-up.
    assert "Manage preferences" not in html and "Unsubscribe" not in html
    assert "View in browser" not in html
    assert html.count('href="https://news.example.org/subscribe/specimen"') == 1


def test_the_editor_preview_is_the_mail_of_a_made_up_reader(sqlite_session, sqlite_settings, specimen):
    html = preview(sqlite_session, sqlite_settings, specimen,
                   sample_values(sqlite_settings, specimen.list_id)).html
    assert "Hi Preview Reader, here are today's 12 top stories." in html
    assert "__DIGEST_" not in html and "/unsubscribe/" in html
