"""The global rate limit: rolling windows, in-process and shared through a real Redis."""

import bisect
import uuid

import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from digest.send.ratelimit import (
    ALLOWED, BUCKETS, HOUR, SECOND, RateLimited, RateLimiter, memory_counter, redis_counter,
)


class FakeClock:
    def __init__(self, now: float = 1_000_000.25):
        self.now, self.slept = now, []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_a_full_second_waits_for_the_next_one():
    clock = FakeClock()
    limiter = RateLimiter(3, 0, memory_counter(3, 0), clock=clock, sleep=clock.sleep)
    for _ in range(3):
        limiter.acquire()
    assert clock.slept == []
    limiter.acquire()
    assert len(clock.slept) == 1 and int(clock.now) == 1_000_001


def test_a_spent_hour_stops_the_batch_instead_of_sleeping():
    clock = FakeClock()
    limiter = RateLimiter(0, 2, memory_counter(0, 2), clock=clock, sleep=clock.sleep)
    limiter.acquire()
    limiter.acquire()
    with pytest.raises(RateLimited, match="hourly send limit"):
        limiter.acquire()


def test_no_limit_costs_nothing():
    def counter(now):
        raise AssertionError("no counting without a limit")
    RateLimiter(0, 0, counter).acquire()


def test_workers_share_the_redis_windows(redis_url):
    namespace = f"digest-test-{uuid.uuid4().hex[:8]}"
    clock = FakeClock()
    first = RateLimiter(4, 5, redis_counter(redis_url, namespace, 4, 5), clock=clock, sleep=clock.sleep)
    second = RateLimiter(4, 5, redis_counter(redis_url, namespace, 4, 5), clock=clock, sleep=clock.sleep)
    for limiter in (first, second, first, second):
        limiter.acquire()
    assert clock.slept == []
    second.acquire()  # the fifth in this second: waits for the next second
    assert len(clock.slept) == 1
    with pytest.raises(RateLimited):
        first.acquire()  # six in this hour is one too many for both


def test_the_hour_rolls_over_the_clock_hour():
    """Clock-hour windows let the quota go at 10:59:59 and the quota again at 11:00:00."""
    clock = FakeClock(now=1_000 * HOUR - 0.5)
    limiter = RateLimiter(0, 5, memory_counter(0, 5), clock=clock, sleep=clock.sleep)
    for _ in range(5):
        limiter.acquire()
    clock.now += 1  # into the next clock hour
    with pytest.raises(RateLimited) as limited:
        limiter.acquire()
    assert HOUR <= limited.value.wait_seconds + 1 <= HOUR * (1 + 1 / BUCKETS)
    clock.now += limited.value.wait_seconds
    limiter.acquire()  # an hour (and at most a bucket) after the five: room again


def test_a_busy_second_is_paced_by_sleeping_not_bursting_across_the_edge():
    clock = FakeClock(now=1_000_000.75)
    limiter = RateLimiter(3, 0, memory_counter(3, 0), clock=clock, sleep=clock.sleep)
    sent = []
    for _ in range(30):
        limiter.acquire()
        sent.append(clock.now)
    assert _most_in_any_window(sent, SECOND) == 3
    assert sent[-1] - sent[0] < 9 * SECOND * (1 + 1 / BUCKETS) + 0.1  # ten full seconds, no more


# A schedule: limits and the times of attempts, on a 1/64 s grid (exact in binary, so the
# checks below are exact), with gaps both within a second and across hours.
GRID = 64
schedules = st.tuples(
    st.integers(0, 4), st.integers(0, 8),
    st.lists(st.one_of(st.integers(0, 2 * GRID), st.integers(0, 5000 * GRID)), min_size=1, max_size=60),
)


def _run(counter, gaps, start=1_000 * HOUR - 30):
    """Every attempt's answer, with its time in grid units."""
    units = start * GRID
    answers = []
    for gap in gaps:
        units += gap
        answers.append((units, counter(units / GRID)))
    return answers


def _most_in_any_window(times: list[float], span: float) -> int:
    """The most events in any closed window [t, t + span] (the worst starts at an event)."""
    return max((bisect.bisect_right(times, t + span) - i for i, t in enumerate(times)), default=0)


@settings(max_examples=150, deadline=None)
@given(schedules)
def test_no_rolling_window_ever_holds_more_than_its_limit(schedule):
    per_second, per_hour, gaps = schedule
    answers = _run(memory_counter(per_second, per_hour), gaps)
    sent = [units for units, (verdict, _) in answers if verdict == ALLOWED]
    for limit, span in ((per_second, SECOND), (per_hour, HOUR)):
        if limit:
            assert _most_in_any_window(sent, span * GRID) <= limit
    for units, (verdict, room_at) in answers:
        if verdict != ALLOWED:
            # Refused only when full: `limit` sent within the last span and a bucket.
            limit, span = {1: (per_second, SECOND), 2: (per_hour, HOUR)}[verdict]
            recent = [u for u in sent if u <= units and BUCKETS * (units - u) < (BUCKETS + 1) * span * GRID]
            assert len(recent) >= limit
            assert room_at > units / GRID


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # redis_url is a constant
@given(schedules)
def test_the_redis_windows_answer_as_the_in_process_ones(redis_url, schedule):
    per_second, per_hour, gaps = schedule
    namespace = f"digest-test-{uuid.uuid4().hex[:8]}"
    try:
        assert _run(redis_counter(redis_url, namespace, per_second, per_hour), gaps) \
            == _run(memory_counter(per_second, per_hour), gaps)
    finally:
        client = redis.Redis.from_url(redis_url)
        client.delete(*client.keys(f"{namespace}:*") or [namespace])
