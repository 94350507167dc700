"""The click redirect, followed from mail that really went out through the SMTP server."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from sqlmodel import select

from digest.bounces.report import edition_reports
from digest.clicks.links import reader_part, story_part
from digest.curate.editions import candidates
from digest.models import DigestList, EditionItem, utcnow
from digest.render.digest import archive_html, preview
from digest.subscribers.links import preview_values
from tests.clicks.conftest import send_edition, story_of

ADA = "ada.lovelace@example.com"
GRACE = "grace.hopper@example.com"


def test_a_link_from_the_received_mail_redirects_to_its_story_and_counts_once(sent):
    sent.sent_ago(120)
    headline, *_ = sent.html_links(ADA)
    answer = sent.follow(headline)
    assert answer.status_code == 302
    story_id = story_of(headline)
    assert answer.headers["location"] == sent.story_urls()[story_id]
    assert answer.headers["cache-control"] == "no-store"
    (click,) = sent.clicks()
    ada = sent.subscriber(ADA)
    assert (click.subscriber_id, click.edition_id, click.story_id, click.counted) == (
        ada.id, sent.edition.id, story_id, True)

    # Replayed (the HTML's "Read more" and image links are the same link): still a
    # redirect, still one row.
    assert sent.follow(headline).status_code == 302
    assert len(sent.clicks()) == 1


def test_the_plain_text_part_carries_tracked_links_too(sent):
    sent.sent_ago(120)
    links = re.findall(r"Read more: (\S+)", sent.text(GRACE))
    assert links and all(link.startswith("https://news.example.org/r/") for link in links)
    assert set(links) == set(sent.html_links(GRACE))
    assert sent.follow(links[-1]).status_code == 302
    (click,) = sent.clicks()
    assert click.subscriber_id == sent.subscriber(GRACE).id
    # Each reader's links carry their own token: Ada's differ from Grace's.
    assert not set(sent.html_links(ADA)) & set(links)


def test_a_changed_link_is_a_404_page_and_records_nothing(sent):
    sent.sent_ago(120)
    link = urlsplit(sent.html_links(ADA)[0]).path
    _, _, reader, story = link.split("/")
    edition_id, story_id, mac = story.split(".")
    other = sent.subscriber(GRACE).id
    tampered = [
        f"/r/{reader}/{edition_id}.{story_id}.{mac[:-1]}{'A' if mac[-1] != 'A' else 'B'}",
        f"/r/{reader}/{edition_id}.{int(story_id) + 1}.{mac}",   # another story, same MAC
        f"/r/{other}.{reader.split('.')[1]}/{story}",            # another reader, Ada's MAC
        f"/r/{reader}/{int(edition_id) + 1}.{story_id}.{mac}",   # another edition
        f"/r/{reader}/{story}x",
        f"/r/{reader}/evil.example",
    ]
    for path in tampered:
        answer = sent.client.get(path, follow_redirects=False, headers={"accept": "text/html"})
        assert answer.status_code == 404, path
        assert "not valid" in answer.text and "location" not in answer.headers
    assert sent.clicks() == []


def test_a_signed_link_to_a_story_outside_its_edition_is_a_404(sent):
    """Signed with the real key, but the story is not in the edition: nothing to redirect to."""
    outside = max(sent.story_urls()) + 1000
    secret = sent.client.app.state.settings.secret_key
    ada = sent.subscriber(ADA)
    path = f"/r/{reader_part(secret, ada.id, sent.edition.id)}/{story_part(secret, sent.edition.id, outside)}"
    assert sent.client.get(path, follow_redirects=False).status_code == 404


def test_scanners_are_redirected_but_not_counted(sent):
    links = sent.html_links(ADA)
    # Within DIGEST_CLICK_IGNORE_SECONDS (60) of delivery: a gateway scanning the mail.
    assert sent.follow(links[0]).status_code == 302
    assert sent.clicks() == []
    sent.sent_ago(120)
    assert sent.follow(links[0], method="HEAD").status_code == 302
    assert sent.follow(links[0], agent="Mozilla/5.0 (compatible; Barracuda Sentinel)").status_code == 302
    assert sent.follow(links[0], agent="Mozilla/5.0 (compatible; bingbot/2.0)").status_code == 302
    assert sent.clicks() == []

    # A burst over every story within a moment: the rows are kept, uncounted.
    for link in links:
        assert sent.follow(link).status_code == 302
    rows = sent.clicks()
    assert len(rows) == len(links) >= 3 and not any(row.counted for row in rows)
    assert edition_reports(sent.session, [sent.edition.id])[sent.edition.id].clicks == 0

    # A real reader clicking one story, later, is counted.
    grace = sent.html_links(GRACE)
    assert sent.follow(grace[1]).status_code == 302
    report = edition_reports(sent.session, [sent.edition.id])[sent.edition.id]
    assert (report.clicks, report.clickers) == (1, 1)


def test_previews_redirect_without_recording_and_the_web_copy_is_untracked(sent):
    settings = sent.client.app.state.settings
    html = preview(sent.session, settings, sent.edition, preview_values(settings, sent.edition)).html
    links = re.findall(r'href="(https://news\.example\.org/r/[^"]+)"', html)
    assert links and all(urlsplit(link).path.split("/")[2].startswith("0.") for link in links)
    sent.sent_ago(120)
    assert sent.follow(links[0]).status_code == 302
    assert sent.clicks() == []

    web_copy = archive_html(sent.session, settings, sent.edition)
    assert "/r/" not in web_copy
    assert len(re.findall(r'class="readmore" href="https://', web_copy)) == len(links) // 2


@pytest.mark.parametrize("switch", [{"list_tracks": False}, {"track_clicks": False}],
                         ids=["the list's switch", "DIGEST_TRACK_CLICKS"])
def test_with_tracking_off_the_sent_mail_links_straight_to_the_stories(tmp_path, database_url,
                                                                       smtp_server, switch):
    world = send_edition(tmp_path, database_url, smtp_server, **switch)
    try:
        _assert_untracked(world)
    finally:
        world.session.close()


def _assert_untracked(world) -> None:
    html = world.mail_to(ADA).get_body(("html",)).get_content()
    text = world.text(ADA)
    assert "/r/" not in html and "/r/" not in text
    read_more = re.findall(r"Read more: (\S+)", text)
    assert read_more and set(read_more) <= set(world.story_urls().values())
    assert all(f'href="{url}"' in html for url in read_more)


def test_a_readers_click_is_what_the_ranking_of_other_lists_reads(sent):
    """The morning list's readers clicked a tech story: the tech list's next draft sees it."""
    tech = sent.session.exec(select(DigestList).where(DigestList.slug == "tech-and-science")).one()
    section = dict(sent.session.exec(select(EditionItem.story_id, EditionItem.section).where(
        EditionItem.edition_id == sent.edition.id)).all())
    links = [link for link in sent.html_links(ADA) if section[story_of(link)] in tech.sections]
    assert len(links) >= 3
    sent.sent_ago(120)
    assert sent.follow(links[0]).status_code == 302
    # Grace's scanner opens three stories at once: a burst, counted nowhere.
    grace = [link for link in sent.html_links(GRACE) if section[story_of(link)] in tech.sections]
    for link in grace[:3]:
        assert sent.follow(link).status_code == 302
    clicks = {c.story.id: c.clicks for c in candidates(sent.session, tech, utcnow())}
    assert clicks[story_of(links[0])] == 1
    assert all(clicks[story_of(link)] == 0 for link in links[1:3])

