"""The global sending rate: messages per second and per hour, shared by every worker.

Each limit holds over every window of its length, wherever the window starts: a rolling
second, a rolling hour. (Clock-hour windows let twice the hourly quota through around the
hour: the quota at 10:59, the quota again at 11:00.) A window counts its messages in
buckets of 1/100 of its length (10 ms for the second, 36 s for the hour) and lets one more
go while the buckets of the last length-and-a-bucket hold fewer than the limit: so the
limit holds exactly over any window, memory stays at 101 counts whatever the quota, and
room comes back at most one bucket (1%) later than an exact log of timestamps would give it.

With Redis both windows live there and one Lua script checks and counts them at once, so
all workers draw from the same budget and a restarted worker finds it where it was.
Without Redis the same logic (:class:`Window`) runs in the process: the embedded,
single-process mode. Time is the caller's clock (workers' clocks are kept by NTP).
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from digest.settings import Settings

BUCKETS = 100                # per window
SECOND, HOUR = 1, 3600       # window lengths in seconds
ALLOWED, SECOND_FULL, HOUR_FULL = 0, 1, 2

# A counter answers (ALLOWED, now), or (SECOND_FULL or HOUR_FULL, when there is room again).
Counter = Callable[[float], tuple[int, float]]


def bucket_of(now: float, span: int) -> int:
    return math.floor(now * BUCKETS / span)


@dataclass
class Window:
    """At most `limit` events in any `span` seconds. The Lua script below is this, in Redis."""

    limit: int
    span: int
    buckets: deque[list[int]] = field(default_factory=deque)  # [bucket, events], oldest first
    total: int = 0

    def room_at(self, now: float) -> float | None:
        """None when one more event fits now, else the time it will."""
        current = bucket_of(now, self.span)
        # The window is the current bucket and the BUCKETS before it: an event in the oldest
        # of them may be up to a whole span before any event that sees it.
        while self.buckets and self.buckets[0][0] < current - BUCKETS:
            self.total -= self.buckets.popleft()[1]
        if self.total < self.limit:
            return None
        return (self.buckets[0][0] + BUCKETS + 1) * self.span / BUCKETS

    def add(self, now: float) -> None:
        current = bucket_of(now, self.span)
        if self.buckets and self.buckets[-1][0] >= current:
            self.buckets[-1][1] += 1  # also a clock that stepped back: counted, never lost
        else:
            self.buckets.append([current, 1])
        self.total += 1


# KEYS: for the second, then the hour, a list of its buckets (oldest first) and a hash of
# their counts with the total in field "n". ARGV: for each window its current bucket, limit
# (0 = none) and a time to live. Returns {0} when a message may go (both windows count it),
# else {1 or 2 (the window that is full), the bucket from which it has room}.
_ACQUIRE = """
local BUCKETS = %d
local function room(list, counts, current, limit)
  while true do
    local oldest = redis.call('LINDEX', list, 0)
    if not oldest or tonumber(oldest) >= current - BUCKETS then break end
    redis.call('HINCRBY', counts, 'n', -tonumber(redis.call('HGET', counts, oldest)))
    redis.call('HDEL', counts, oldest)
    redis.call('LPOP', list)
  end
  if tonumber(redis.call('HGET', counts, 'n') or '0') < limit then return nil end
  return tonumber(redis.call('LINDEX', list, 0)) + BUCKETS + 1
end
local function add(list, counts, bucket, ttl)
  local newest = redis.call('LINDEX', list, -1)
  if newest and tonumber(newest) >= tonumber(bucket) then
    bucket = newest
  else
    redis.call('RPUSH', list, bucket)
  end
  redis.call('HINCRBY', counts, bucket, 1)
  redis.call('HINCRBY', counts, 'n', 1)
  redis.call('EXPIRE', list, ttl)
  redis.call('EXPIRE', counts, ttl)
end
for w = 1, 2 do
  local limit = tonumber(ARGV[3 * w - 1])
  if limit > 0 then
    local at = room(KEYS[2 * w - 1], KEYS[2 * w], tonumber(ARGV[3 * w - 2]), limit)
    if at then return {w, at} end
  end
end
for w = 1, 2 do
  if tonumber(ARGV[3 * w - 1]) > 0 then
    add(KEYS[2 * w - 1], KEYS[2 * w], ARGV[3 * w - 2], ARGV[3 * w])
  end
end
return {0}
""" % BUCKETS


class RateLimited(Exception):
    """The hourly budget is spent: stop the batch, its rows wait for a later one."""

    def __init__(self, wait_seconds: float):
        super().__init__(f"hourly send limit reached; room again in {wait_seconds:.0f}s")
        self.wait_seconds = wait_seconds


class RateLimiter:
    """`acquire()` before each message: returns at once, sleeps until the rolling second has
    room, or raises :class:`RateLimited` when the rolling hour is spent."""

    def __init__(self, per_second: float, per_hour: int, counter: Counter,
                 clock: Callable[[], float] = time.time, sleep: Callable[[float], None] = time.sleep):
        # A fractional rate (0.5/s) is counted over the second as a whole message.
        self.per_second = math.ceil(per_second) if per_second else 0
        self.per_hour = per_hour
        self._counter, self._clock, self._sleep = counter, clock, sleep

    @property
    def unlimited(self) -> bool:
        return not (self.per_second or self.per_hour)

    def acquire(self) -> None:
        if self.unlimited:
            return
        while True:
            now = self._clock()
            verdict, room_at = self._counter(now)
            if verdict == ALLOWED:
                return
            if verdict == HOUR_FULL:
                raise RateLimited(room_at - now)
            # A millisecond past the edge: float arithmetic must not put us back before it.
            self._sleep(max(room_at - now, 0) + 0.001)


def redis_counter(url: str, namespace: str, per_second: int, per_hour: int) -> Counter:
    import redis

    client = redis.Redis.from_url(url)
    script = client.register_script(_ACQUIRE)
    keys = [f"{namespace}:rate:{name}:{part}" for name in ("second", "hour")
            for part in ("buckets", "counts")]
    spans = {SECOND_FULL: SECOND, HOUR_FULL: HOUR}

    def count(now: float) -> tuple[int, float]:
        args = []
        for span, limit in ((SECOND, per_second), (HOUR, per_hour)):
            args += [bucket_of(now, span), limit, 2 * span]  # older counts are out of the window
        verdict, *room = script(keys=keys, args=args)
        return (ALLOWED, now) if verdict == ALLOWED else (verdict, room[0] * spans[verdict] / BUCKETS)
    return count


def memory_counter(per_second: int, per_hour: int) -> Counter:
    lock = threading.Lock()
    windows = [(verdict, Window(limit, span)) for verdict, limit, span in
               ((SECOND_FULL, per_second, SECOND), (HOUR_FULL, per_hour, HOUR)) if limit]

    def count(now: float) -> tuple[int, float]:
        with lock:
            for verdict, window in windows:
                if (room_at := window.room_at(now)) is not None:
                    return verdict, room_at
            for _, window in windows:
                window.add(now)
            return ALLOWED, now
    return count


_limiters: dict[tuple, RateLimiter] = {}


def limiter_for(settings: Settings) -> RateLimiter:
    """One limiter per process and configuration (the in-process counter must be shared)."""
    per_second = math.ceil(settings.send_rate_per_second)
    key = (settings.broker_url, settings.celery_queue, per_second, settings.send_rate_per_hour)
    if key not in _limiters:
        if settings.broker_url and settings.broker_url.startswith(("redis://", "rediss://")):
            counter = redis_counter(settings.broker_url, f"digest:{settings.celery_queue}",
                                    per_second, settings.send_rate_per_hour)
        else:
            counter = memory_counter(per_second, settings.send_rate_per_hour)
        _limiters[key] = RateLimiter(per_second, settings.send_rate_per_hour, counter)
    return _limiters[key]
