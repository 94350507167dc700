"""The global sending rate: messages per second and per hour, shared by every worker.

Fixed windows counted with INCR + EXPIRE in one Lua script, so all workers draw from the
same counters and a restarted worker finds them where they were. A per-second window lets
a burst of up to twice the rate straddle a window edge; over any hour the count holds.
Without Redis the same windows are counted in the process (the embedded, single-process
mode).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

from digest.settings import Settings

# KEYS: second window, hour window. ARGV: per-second limit, per-hour limit (0 = none).
# Returns 0 when a message may go, 1 when the second is full, 2 when the hour is full.
_ACQUIRE = """
local per_second, per_hour = tonumber(ARGV[1]), tonumber(ARGV[2])
if per_second > 0 then
  local n = redis.call('INCR', KEYS[1])
  if n == 1 then redis.call('EXPIRE', KEYS[1], 5) end
  if n > per_second then return 1 end
end
if per_hour > 0 then
  local h = redis.call('INCR', KEYS[2])
  if h == 1 then redis.call('EXPIRE', KEYS[2], 3700) end
  if h > per_hour then
    redis.call('DECR', KEYS[2])
    if per_second > 0 then redis.call('DECR', KEYS[1]) end
    return 2
  end
end
return 0
"""

SECOND_FULL, HOUR_FULL = 1, 2


class RateLimited(Exception):
    """The hourly budget is spent: stop the batch, its rows wait for a later one."""

    def __init__(self, wait_seconds: float):
        super().__init__(f"hourly send limit reached; next window in {wait_seconds:.0f}s")
        self.wait_seconds = wait_seconds


class RateLimiter:
    """`acquire()` before each message: returns at once, sleeps into the next second, or
    raises :class:`RateLimited` when the hour is spent."""

    def __init__(self, per_second: float, per_hour: int, counter: Callable[[int, int], int],
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
            verdict = self._counter(int(now), int(now // 3600))
            if verdict == 0:
                return
            if verdict == HOUR_FULL:
                raise RateLimited(3600 - now % 3600)
            self._sleep(1 - now % 1 + 0.001)


def redis_counter(url: str, namespace: str, per_second: int, per_hour: int) -> Callable[[int, int], int]:
    import redis

    client = redis.Redis.from_url(url)
    script = client.register_script(_ACQUIRE)

    def count(second: int, hour: int) -> int:
        keys = [f"{namespace}:rate:s:{second}", f"{namespace}:rate:h:{hour}"]
        return int(script(keys=keys, args=[per_second, per_hour]))
    return count


def memory_counter(per_second: int, per_hour: int) -> Callable[[int, int], int]:
    lock = threading.Lock()
    windows: dict[str, tuple[int, int]] = {}

    def bump(name: str, window: int) -> int:
        current, n = windows.get(name, (window, 0))
        n = n + 1 if current == window else 1
        windows[name] = (window, n)
        return n

    def count(second: int, hour: int) -> int:
        with lock:
            if per_second and bump("s", second) > per_second:
                return SECOND_FULL
            if per_hour and bump("h", hour) > per_hour:
                windows["h"] = (hour, windows["h"][1] - 1)
                if per_second:
                    windows["s"] = (second, windows["s"][1] - 1)
                return HOUR_FULL
            return 0
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
