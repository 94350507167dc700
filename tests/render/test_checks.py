"""The pre-send check: each rule on a broken message, the specimen passing, and the send refusing."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from sqlmodel import func, select

from digest.models import Delivery, EditionStatus, EditionVariant
from digest.render.checks import check_edition, check_rendered
from digest.render.digest import Rendered, personalise, render_variant
from digest.subscribers.links import personal_values, sample_values
from digest.send.service import SendError, start_send
from tests.render.specimen import STORIES, readers, specimen_edition
from tests.workers import digest_env

# Twelve stories whose summaries are an editor's essay each: far over Gmail's clipping size.
ESSAYS = [(*story[:3], " ".join([story[3]] * 50), story[4]) for story in STORIES]


def personalised(session, settings, edition) -> tuple[Rendered, str]:
    personal = personal_values(settings, readers()[0], edition.list_id)
    return personalise(render_variant(session, settings, edition), personal), personal.unsubscribe_url


def checks_of(findings) -> list[str]:
    return sorted(f.check for f in findings)


@pytest.mark.parametrize("inliner", ["premailer", "css-inline"])
def test_the_specimen_passes(sqlite_session, sqlite_settings, specimen, inliner):
    settings = sqlite_settings.model_copy(update={"css_inliner": inliner})
    assert check_edition(sqlite_session, settings, specimen,
                         sample_values(settings, specimen.list_id)) == []


def test_each_rule_names_what_to_fix(sqlite_session, sqlite_settings, specimen):
    mail, unsubscribe = personalised(sqlite_session, sqlite_settings, specimen)

    def broken(html: str = mail.html, text: str = mail.text):
        return check_rendered(Rendered(mail.subject, html, text), unsubscribe)

    no_alt = broken(mail.html.replace('alt="Delta flood barrier opens a year early after a mild winter"', 'alt=""'))
    assert checks_of(no_alt) == ["alt"] and "barrier.jpg' has no alt text" in no_alt[0].message

    http_image = broken(mail.html.replace("https://images.example.org/chips.jpg", "http://images.example.org/chips.jpg"))
    assert checks_of(http_image) == ["image"]

    story_link = re.compile(r'href="https://news\.example\.org/r/[^"]+"')
    relative = broken(story_link.sub('href="/world/1"', mail.html, 1))
    assert checks_of(relative) == ["link"] and "every link must be an absolute http(s) URL" in relative[0].message
    assert checks_of(broken(story_link.sub('href="javascript:alert(1)"', mail.html, 1))) == ["link"]

    longer = mail.text.replace("Read more:", "Read more: " + "x" * 1000, 1)
    width = max(len(line) for line in longer.splitlines())
    long_line = broken(text=longer)
    assert checks_of(long_line) == ["line"] and f"of the text part is {width} characters, over 998" in long_line[0].message

    big_style = broken(mail.html.replace("</style>\n</head>", "/*" + "x\n" * 8500 + "*/</style>\n</head>"))
    assert checks_of(big_style) == ["style"] and "Gmail drops it" in big_style[0].message

    scripted = broken(mail.html.replace("</body>", "<form><input></form></body>"))
    assert checks_of(scripted) == ["markup"]

    no_unsubscribe = broken(mail.html.replace(unsubscribe, "https://news.example.org/"),
                            mail.text.replace(unsubscribe, ""))
    assert checks_of(no_unsubscribe) == ["unsubscribe", "unsubscribe"]


def test_an_oversized_edition_is_found_with_its_size(sqlite_session, sqlite_settings):
    edition = specimen_edition(sqlite_session, ESSAYS)
    findings = check_edition(sqlite_session, sqlite_settings, edition,
                             sample_values(sqlite_settings, edition.list_id))
    assert checks_of(findings) == ["size"]
    assert "KB encoded, over the 90 KB limit" in findings[0].message
    assert "remove stories or shorten summaries" in findings[0].message


def test_the_send_does_not_start_while_the_check_finds_something(session, settings):
    edition = specimen_edition(session, ESSAYS)
    with pytest.raises(SendError, match=r"failed the pre-send check.*\n  - \[size\] the HTML part is"):
        start_send(session, settings, edition.id)
    session.rollback()
    session.refresh(edition)
    assert edition.status == EditionStatus.APPROVED
    assert session.exec(select(func.count()).select_from(Delivery)).one() == 0
    assert session.exec(select(func.count()).select_from(EditionVariant)).one() == 0


def test_the_check_command_says_what_to_fix(tmp_path, sqlite_session, sqlite_settings):
    edition = specimen_edition(sqlite_session, ESSAYS)
    env = digest_env(database_url=sqlite_settings.database_url, data_dir=tmp_path / "var")
    result = subprocess.run([sys.executable, "-m", "digest.cli", "editions", "check", str(edition.id)],
                            env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert f"edition {edition.id} failed the pre-send check" in result.stderr
    assert "[size] the HTML part is" in result.stderr
