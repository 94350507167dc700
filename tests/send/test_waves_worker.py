"""Waves of a local-time send through a real Celery worker, Redis, PostgreSQL and SMTP
server: the reconciler queues a wave due before its next run with a countdown to the
wave's time, and queues nothing for a wave further off."""

from __future__ import annotations

import time
from datetime import timedelta

from sqlalchemy import select, update

from digest.models import Delivery, EditionStatus, utcnow
from digest.send import control
from digest.send.service import start_send
from tests.workers import wait_for


def test_a_wave_goes_at_its_time_and_a_later_one_waits_without_spinning(rig):
    with rig.session() as session:
        start_send(session, rig.settings, rig.edition_id)
        # Two waves a few seconds and ten minutes off (real due times fall on whole minutes,
        # computed per zone: tests/send/test_local_time.py; here only the timing counts).
        ids = session.execute(select(Delivery.id).where(Delivery.edition_id == rig.edition_id)
                              .order_by(Delivery.id)).scalars().all()
        soon, later = utcnow() + timedelta(seconds=6), utcnow() + timedelta(minutes=10)
        half = len(ids) // 2
        session.execute(update(Delivery).where(Delivery.id.in_(ids[:half])).values(not_before=soon))
        session.execute(update(Delivery).where(Delivery.id.in_(ids[half:])).values(not_before=later))
        session.commit()
    with rig.worker(concurrency=2):
        rig.task("digest.reconcile")
        time.sleep(max((soon - utcnow()).total_seconds() - 1, 0))
        assert rig.sink.messages == []  # queued with a countdown: nothing before the wave's time
        wait_for(lambda: len(rig.sink.messages) >= half, timeout=30)
        assert utcnow() >= soon
        # The later wave: the reconciler counts no row of it as due and queues nothing.
        rig.task("digest.reconcile")
        assert rig.sink_is_quiet(3)
    assert len(rig.sink.messages) == half
    with rig.session() as session:
        progress = control.progress(session, rig.edition_id)
    assert (progress.status, progress.count("sent"), progress.waiting) == (EditionStatus.SENDING, half, half)
    assert abs(progress.next_wave - later) < timedelta(seconds=1)
