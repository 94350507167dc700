"""The global rate limit: fixed windows, in-process and shared through a real Redis."""

import uuid

import pytest

from digest.send.ratelimit import RateLimited, RateLimiter, memory_counter, redis_counter


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
    def counter(second, hour):
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
