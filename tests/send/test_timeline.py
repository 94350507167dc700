"""A send over time from the ledger, on SQLite and PostgreSQL (whose ledger writes take
another statement): every settled row has the time of its outcome, and the timeline's
last step holds the whole ledger."""

import pytest
from sqlmodel import select

from digest.mail.backends.memory import MemoryBackend
from digest.mail.errors import Bounce, Rejected, TemporaryFailure
from digest.models import Delivery, Edition, utcnow
from digest.send import ledger
from digest.send.service import send_inline
from digest.send.timeline import MAX_STEPS, STATUSES, elapsed, send_timeline, step_for
from tests.factories import approved_edition, sample_world


def test_every_outcome_has_its_time_and_the_timeline_adds_up(session, settings):
    morning = sample_world(session, settings)["morning-briefing"]
    edition = approved_edition(session, morning)
    backend = MemoryBackend()
    backend.failures = {"ada.lovelace@example.com": Bounce("550 5.1.1 no such user", code=550),
                        "edsger@example.com": TemporaryFailure("451 4.7.1 later", code=451),
                        "frances.allen@example.com": Rejected("554 5.7.1 policy", code=554)}
    before = utcnow()
    send_inline(session, settings, backend, edition.id)

    rows = session.exec(select(Delivery.status, Delivery.outcome_at).where(Delivery.edition_id == edition.id)).all()
    assert {status for status, _ in rows} == {"sent", "bounced", "deferred", "failed"}
    assert all(at is not None and before <= at <= utcnow() for _, at in rows)
    timeline = send_timeline(session, edition.id)
    counts = ledger.counts(session, edition.id)
    assert {s: timeline.counts[s][-1] for s in STATUSES} == {s: counts.get(s, 0) for s in STATUSES}
    assert timeline.start == session.get(Edition, edition.id).send_started_at


def test_an_edition_never_sent_has_an_empty_timeline(session, settings):
    morning = sample_world(session, settings)["morning-briefing"]
    edition = approved_edition(session, morning)
    timeline = send_timeline(session, edition.id)
    assert timeline.ends == [] and timeline.start is None


@pytest.mark.parametrize(("seconds", "step", "label"), [
    (6.7, 1, "7 s"), (90, 5, "90 s"), (20 * 60, 60, "20 min"), (3 * 3600, 600, "3 h"), (5 * 86400, 6 * 3600, "5 d")])
def test_steps_fit_the_sends_length(seconds, step, label):
    assert step_for(seconds) == step and seconds / step <= MAX_STEPS
    assert elapsed(round(seconds)) == label
