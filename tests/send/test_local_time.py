"""Local-time delivery on both databases, with a fake clock: the schedule tick, the start,
the reconciler and the batches all get `now` as the beat and the workers would see it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import select

from digest.mail.backends.memory import MemoryBackend
from digest.models import Edition, EditionStatus, Subscriber, Subscription, SubscriptionStatus
from digest.schedule import next_slot, tick
from digest.send import control, ledger
from digest.send.service import reconcile, run_batches, start_send
from tests.curate.world import NOW, digest_list, source, story

# The list sends at 07:00 London time; on 2026-11-27 London is on GMT, Auckland on NZDT
# (UTC+13), Berlin on CET, New York on EST, Los Angeles on PST. Written out by hand, not
# computed with the code under test.
SLOT = datetime(2026, 11, 27, 7, 0, tzinfo=UTC)
EXPECTED = {
    "auckland@example.net": datetime(2026, 11, 26, 18, 0, tzinfo=UTC),
    "tokyo@example.net": datetime(2026, 11, 26, 22, 0, tzinfo=UTC),
    "berlin@example.net": datetime(2026, 11, 27, 6, 0, tzinfo=UTC),
    "nozone@example.net": datetime(2026, 11, 27, 7, 0, tzinfo=UTC),  # the list's own zone
    "newyork@example.net": datetime(2026, 11, 27, 12, 0, tzinfo=UTC),
    "losangeles@example.net": datetime(2026, 11, 27, 15, 0, tzinfo=UTC),
}
ZONES = {"auckland@example.net": "Pacific/Auckland", "tokyo@example.net": "Asia/Tokyo",
         "berlin@example.net": "Europe/Berlin", "nozone@example.net": None,
         "newyork@example.net": "America/New_York", "losangeles@example.net": "America/Los_Angeles"}
MINUTE = timedelta(minutes=1)


def local_list(session, readers: dict[str, str | None], *, published: datetime, **rules):
    """An auto-approving local-time list in London with stories and these readers."""
    herald = source(session, "herald.example")
    for n in range(3):
        story(session, herald, f"story-{n}", hours_ago=(NOW - published).total_seconds() / 3600)
    daily = digest_list(session, **{"timezone": "Europe/London", "deliver_at": "local", "auto_approve": True,
                                    **rules})
    for email, zone in readers.items():
        reader = Subscriber(email=email, timezone=zone)
        session.add(reader)
        session.flush()
        session.add(Subscription(subscriber_id=reader.id, list_id=daily.id, status=SubscriptionStatus.ACTIVE))
    session.commit()
    return daily


class Clock:
    """Beat and workers at a fake time: each minute the schedule tick and the reconciler
    run, and the batches they ask for run at once. Records when each reader got mail."""

    def __init__(self, session, settings, now: datetime):
        self.session, self.settings, self.now = session, settings, now
        self.backend = MemoryBackend()
        self.received: dict[str, datetime] = {}
        self.seen = 0

    def run_until(self, end: datetime) -> None:
        while self.now <= end:
            for edition_id in tick(self.session, self.now).due:
                start_send(self.session, self.settings, edition_id, self.now)
            self.session.commit()
            for edition_id in reconcile(self.session, self.now):
                run_batches(self.session, self.settings, self.backend, edition_id, self.now)
            for message in self.backend.outbox[self.seen:]:
                assert message.recipient not in self.received, f"{message.recipient} got it twice"
                self.received[message.recipient] = self.now
            self.seen = len(self.backend.outbox)
            self.now += MINUTE

    def edition(self) -> Edition:
        return self.session.exec(select(Edition)).one()

    def status(self) -> str:
        edition = self.edition()
        self.session.refresh(edition)
        return edition.status


def test_readers_in_five_zones_get_the_edition_at_the_send_time_in_their_own_zone(session, settings):
    daily = local_list(session, ZONES, published=SLOT - timedelta(hours=20))
    start = EXPECTED["auckland@example.net"] - timedelta(hours=2)
    # The schedule says when the first wave is: the earliest reader's zone, 13 h early.
    assert next_slot(session, daily, start).first_wave == EXPECTED["auckland@example.net"]
    clock = Clock(session, settings, start)
    clock.run_until(EXPECTED["tokyo@example.net"] + timedelta(minutes=5))
    # Built and approved in time for the first wave; sending, with later waves waiting.
    progress = control.progress(session, clock.edition().id, clock.now)
    assert (progress.status, progress.count("sent"), progress.waiting) == ("sending", 2, 4)
    assert progress.next_wave == EXPECTED["berlin@example.net"]
    assert "4 wait for a later wave, the next at 2026-11-27 06:00 UTC" == progress.wave_note
    clock.run_until(EXPECTED["losangeles@example.net"] + timedelta(minutes=5))

    assert len(clock.backend.outbox) == len(EXPECTED)  # one each: nobody twice
    for email, due in EXPECTED.items():
        assert due <= clock.received[email] <= due + MINUTE, (email, clock.received[email], due)
    assert clock.status() == EditionStatus.SENT
    assert len(session.exec(select(Edition)).all()) == 1  # one edition per slot, rendered once


def test_a_pause_between_waves_holds_the_next_wave_and_resume_sends_it_then_the_rest_on_time(session, settings):
    local_list(session, ZONES, published=SLOT - timedelta(hours=20))
    clock = Clock(session, settings, EXPECTED["auckland@example.net"] - timedelta(hours=1))
    clock.run_until(EXPECTED["tokyo@example.net"] + timedelta(minutes=5))
    edition_id = clock.edition().id
    control.pause_send(session, edition_id)
    clock.run_until(EXPECTED["nozone@example.net"] + timedelta(minutes=30))  # Berlin's and London's time pass
    assert set(clock.received) == {"auckland@example.net", "tokyo@example.net"}
    assert clock.status() == EditionStatus.PAUSED
    resumed_at = clock.now
    # Resume makes the waves that came due meanwhile go at once, and only those.
    assert control.resume_send(session, settings, edition_id) == 1
    clock.run_until(EXPECTED["losangeles@example.net"] + timedelta(minutes=5))
    assert clock.received["berlin@example.net"] == clock.received["nozone@example.net"] == resumed_at
    for email in ("newyork@example.net", "losangeles@example.net"):
        assert EXPECTED[email] <= clock.received[email] <= EXPECTED[email] + MINUTE
    assert len(clock.backend.outbox) == len(EXPECTED)
    assert clock.status() == EditionStatus.SENT


def test_cancel_between_waves_settles_the_later_waves_and_sends_nothing_more(session, settings):
    local_list(session, ZONES, published=SLOT - timedelta(hours=20))
    clock = Clock(session, settings, EXPECTED["auckland@example.net"] - timedelta(minutes=5))
    clock.run_until(EXPECTED["auckland@example.net"] + timedelta(minutes=5))
    edition_id = clock.edition().id
    assert control.cancel_send(session, edition_id) == len(EXPECTED) - 1
    clock.run_until(EXPECTED["losangeles@example.net"] + timedelta(minutes=5))
    assert set(clock.received) == {"auckland@example.net"}
    assert ledger.counts(session, edition_id) == {"sent": 1, "skipped": len(EXPECTED) - 1}
    assert clock.status() == EditionStatus.CANCELLED


def test_a_reader_whose_clocks_change_that_night_gets_it_at_the_new_local_time(session, settings):
    # New York leaves daylight time at 02:00 on Sunday 2026-11-01: 07:00 that morning is
    # 12:00 UTC, one hour later than the day before (11:00 UTC). London changed a week earlier.
    dst_slot = datetime(2026, 11, 1, 7, 0, tzinfo=UTC)
    local_list(session, {"newyork@example.net": "America/New_York", "london@example.net": "Europe/London"},
               published=dst_slot - timedelta(hours=20))
    clock = Clock(session, settings, dst_slot - timedelta(minutes=70))
    clock.run_until(datetime(2026, 11, 1, 12, 5, tzinfo=UTC))
    assert clock.received == {"london@example.net": dst_slot,
                              "newyork@example.net": datetime(2026, 11, 1, 12, 0, tzinfo=UTC)}


def test_a_list_delivering_at_its_own_time_sends_everyone_at_once_whatever_their_zone(session, settings):
    local_list(session, ZONES, published=SLOT - timedelta(hours=20), deliver_at="list")
    clock = Clock(session, settings, SLOT - timedelta(hours=14))
    clock.run_until(SLOT + timedelta(minutes=2))
    assert set(clock.received.values()) == {SLOT}
    assert set(clock.received) == set(EXPECTED)


def test_a_first_wave_missed_by_more_than_the_lateness_limit_is_not_sent_automatically(session):
    local_list(session, ZONES, published=SLOT - timedelta(hours=20))
    report = tick(session, EXPECTED["auckland@example.net"] + timedelta(hours=3))
    assert report.due == [] and report.built == []


def test_a_draft_not_approved_by_the_first_wave_is_held_and_ops_are_told_when_that_was(session):
    local_list(session, ZONES, published=SLOT - timedelta(hours=20), auto_approve=False)
    first = EXPECTED["auckland@example.net"]
    assert tick(session, first - timedelta(minutes=59)).built  # built an hour ahead of the first wave
    report = tick(session, first + timedelta(minutes=1))
    assert report.due == []
    assert any("not approved" in note and "its first wave was due at 2026-11-26 18:00 UTC" in note
               for note in report.notes)


def test_send_times_skipped_or_repeated_by_a_clock_change_are_read_with_the_offset_before_it():
    from digest.zones import local_send_time
    # New York springs forward at 02:00 on 2026-03-08: 02:30 does not exist that day and is
    # read with the offset before the change (EST), i.e. 03:30 EDT, 07:30 UTC.
    spring = datetime(2026, 3, 8, 2, 30, tzinfo=UTC)
    assert local_send_time(spring, "UTC", "02:30", "America/New_York") == datetime(2026, 3, 8, 7, 30, tzinfo=UTC)
    # It falls back at 02:00 on 2026-11-01: 01:30 happens twice; the first (EDT) counts.
    fall = datetime(2026, 11, 1, 1, 30, tzinfo=UTC)
    assert local_send_time(fall, "UTC", "01:30", "America/New_York") == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)


def test_the_zone_choices_always_hold_the_lists_own_zone():
    from digest.zones import COMMON, choices
    assert choices("Europe/London") is COMMON
    assert "America/Argentina/Ushuaia" in choices("America/Argentina/Ushuaia")["Other"]
