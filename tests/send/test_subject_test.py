"""The subject test: 10% of the readers get each subject at the slot, the rest wait for the
window and then get the subject with more unique clicks per delivered mail (the first
subject while nobody has clicked); one rendering per variant whatever the subjects."""

from collections import Counter
from datetime import timedelta
from unittest import mock

import pytest
from sqlmodel import select

from digest.cli.send import _describe as describe
from digest.mail.backends.memory import MemoryBackend
from digest.models import Click, Delivery, EditionItem, EditionVariant, utcnow
from digest.send import ledger, subject_test
from digest.send.control import progress
from digest.send.service import run_batches, send_inline
from tests.send.small_world import approved, make_list, readers, subject, world

READERS = 30


class Clock:
    """utcnow for the ledger and the subject test, moved on by hand."""

    def __init__(self):
        self.offset = timedelta()

    def now(self):
        return utcnow() + self.offset


@pytest.fixture
def clock():
    clock = Clock()
    with mock.patch.object(ledger, "utcnow", clock.now), mock.patch.object(subject_test, "utcnow", clock.now):
        yield clock


def start(session, settings):
    world(session, {"news": 5})
    news = make_list(session, "news", ["news"], 3)
    readers(session, {f"reader{i}@example.org": [news] for i in range(READERS)})
    edition = approved(session, news, subject="Alpha subject", subject_b="Beta subject")
    backend = MemoryBackend()
    send_inline(session, settings, backend, edition.id)
    return edition, backend


def subjects(backend):
    return Counter(subject(backend, m.recipient) for m in backend.outbox)


def group_of(session, edition, group):
    return session.exec(select(Delivery.subscriber_id).where(
        Delivery.edition_id == edition.id, Delivery.subject_variant == group)).all()


def click(session, edition, subscriber_id, times=1):
    """The reader clicks `times` stories (one click per story is all the ledger keeps)."""
    story_ids = session.exec(select(EditionItem.story_id).where(EditionItem.edition_id == edition.id)).all()
    for story_id in story_ids[:times]:
        session.add(Click(edition_id=edition.id, story_id=story_id, subscriber_id=subscriber_id))
    session.commit()


def test_ten_percent_get_each_subject_and_the_rest_wait_for_the_window(session, settings, clock):
    edition, backend = start(session, settings)

    assert subjects(backend) == {"Alpha subject": 3, "Beta subject": 3}
    assert ledger.counts(session, edition.id) == {"sent": 6, "pending": 24}
    clock.offset = timedelta(minutes=settings.subject_test_minutes - 1)
    run_batches(session, settings, backend, edition.id)
    assert len(backend.outbox) == 6
    report = progress(session, edition.id).subject_test
    assert (report.a.delivered, report.b.delivered, report.winner) == (3, 3, None)
    assert "the rest wait until" in report.lines()[2]


def test_the_rest_get_the_subject_with_more_unique_clicks_per_mail(session, settings, clock, monkeypatch):
    edition, backend = start(session, settings)
    a, b = group_of(session, edition, "a"), group_of(session, edition, "b")
    click(session, edition, a[0], times=3)  # one reader clicking often counts once
    click(session, edition, b[0])
    click(session, edition, b[1])
    rendered = []
    monkeypatch.setattr("digest.send.service.render_variant", lambda *a, **k: rendered.append(a))

    clock.offset = timedelta(minutes=settings.subject_test_minutes + 1)
    run_batches(session, settings, backend, edition.id)

    assert subjects(backend) == {"Alpha subject": 3, "Beta subject": 3 + 24}
    assert rendered == []  # both subjects went out over the one stored rendering
    assert session.exec(select(EditionVariant.key).where(EditionVariant.edition_id == edition.id)).all() == ["all"]
    report = progress(session, edition.id).subject_test
    assert (report.a.clicked, report.a.delivered, report.b.clicked, report.b.delivered) == (1, 3, 2, 3)
    assert report.winner == "b" and report.lines()[2] == "winner: B"
    status = describe(progress(session, edition.id))  # what `digest send status` prints
    assert "subject B 'Beta subject': 2 of 3 clicked (66.7%)" in status and "winner: B" in status
    assert report.as_dict()["b"]["rate"] == pytest.approx(2 / 3, abs=1e-4)
    # Clicks after the decision change nothing: the first decision stands.
    click(session, edition, a[1])
    click(session, edition, a[2])
    assert subject_test.decide(session, edition) == "b"


def test_without_any_click_the_rest_get_the_first_subject(session, settings, clock):
    edition, backend = start(session, settings)

    clock.offset = timedelta(minutes=settings.subject_test_minutes + 1)
    run_batches(session, settings, backend, edition.id)

    assert subjects(backend) == {"Alpha subject": 3 + 24, "Beta subject": 3}
    assert progress(session, edition.id).subject_test.winner == "a"
    assert ledger.counts(session, edition.id) == {"sent": READERS}
