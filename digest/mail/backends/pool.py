"""A worker process's connections to the relay: a pool kept open between batches.

Up to ``DIGEST_SMTP_CONNECTIONS`` connections per process stream at once (one thread
each), within ``DIGEST_SMTP_MAX_CONNECTIONS`` for all workers together: each open
connection holds a slot in a Redis sorted set, scored by when the slot lapses, so a killed
worker's slots free themselves. A relay that answers ``421`` at the greeting (too many
connections) makes the pool smaller rather than failing messages; it grows back by one a
batch while the relay lets it.
"""

from __future__ import annotations

import atexit
import contextlib
import itertools
import os
import socket
import threading
import time
import uuid
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import redis
from redis.exceptions import RedisError

from digest import metrics
from digest.mail.backends.base import MailBackend
from digest.mail.backends.smtp import SMTPBackend
from digest.mail.errors import NoSlot
from digest.mail.message import OutgoingMessage

#: Seconds a slot lives without a refresh (connections in use renew theirs every 10 s).
SLOT_TTL = 60

# KEYS: the set. ARGV: member, now, ttl, cap. Drops lapsed slots, then takes one if there is room.
_ACQUIRE = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
if redis.call('ZSCORE', KEYS[1], ARGV[1]) or redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[4]) then
  redis.call('ZADD', KEYS[1], tonumber(ARGV[2]) + tonumber(ARGV[3]), ARGV[1])
  return 1
end
return 0
"""


class Slots:
    """The cap shared by every worker, in Redis. Without Redis only the process's own
    limit applies (the embedded mode has one process)."""

    def __init__(self, redis_url: str | None, key: str, cap: int):
        self.key, self.cap = key, cap
        self._script = None
        if redis_url:

            self._client = redis.Redis.from_url(redis_url, socket_timeout=5)
            self._script = self._client.register_script(_ACQUIRE)
        self._names = itertools.count()
        self._prefix = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

    def slot(self) -> Slot:
        return Slot(self, f"{self._prefix}:{next(self._names)}")


class Slot:
    def __init__(self, slots: Slots, member: str):
        self.slots, self.member = slots, member

    def acquire(self) -> bool:
        if self.slots._script is None:
            return True
        try:
            return bool(self.slots._script(keys=[self.slots.key],
                                           args=[self.member, time.time(), SLOT_TTL, self.slots.cap]))
        except RedisError as exc:
            # Without the count no connection opens: the cap protects the relay's limit.
            raise NoSlot(f"the connections to the relay cannot be counted in Redis "
                         f"(DIGEST_REDIS_URL or DIGEST_BROKER_URL): {exc}", unsent=[]) from None

    def release(self) -> None:
        if self.slots._script is not None:
            with contextlib.suppress(RedisError):  # unreleased, the slot lapses by itself
                self.slots._client.zrem(self.slots.key, self.member)


class SMTPRelay(MailBackend):
    """The pool. `lanes(want)` lends up to `want` connections (opened by their first
    message, or already open from an earlier batch); `send` borrows one."""

    def __init__(self, connect: Callable[[Slot], SMTPBackend], connections: int, slots: Slots):
        self._connect, self.connections, self.slots = connect, connections, slots
        self.limit = connections  # shrinks on "421 too many connections"
        self._idle: list[tuple[SMTPBackend, float]] = []  # with when each went idle
        self._made: weakref.WeakSet[SMTPBackend] = weakref.WeakSet()  # idle or lent out
        self._lock = threading.Lock()

    def _take(self) -> SMTPBackend:
        with self._lock:
            # A slot may lapse while its connection sits idle, letting another worker open
            # one in its place: such a connection is closed rather than used above the cap.
            fresh = time.monotonic() - SLOT_TTL / 2
            stale = [lane for lane, since in self._idle if since < fresh]
            self._idle = [(lane, since) for lane, since in self._idle if since >= fresh]
            lane = self._idle.pop()[0] if self._idle else None
        for old in stale:
            old.close()
        if lane is None:
            lane = self._connect(self.slots.slot())
            with self._lock:
                self._made.add(lane)
        return lane

    def open_connections(self) -> int:
        with self._lock:
            made = list(self._made)
        return sum(lane.connection is not None for lane in made)

    def _give_back(self, lane: SMTPBackend) -> None:
        """Only a connection its lane left between transactions comes back (a stream that
        broke off drops its connection)."""
        if lane.connection is None:
            return
        with self._lock:
            self._idle.append((lane, time.monotonic()))

    @contextmanager
    def lanes(self, want: int) -> Iterator[list[SMTPBackend]]:
        lanes = [self._take() for _ in range(max(1, min(want, self.limit)))]
        try:
            yield lanes
        finally:
            for lane in lanes:
                self._give_back(lane)
            self._resize(lanes)

    def _resize(self, lanes: list[SMTPBackend]) -> None:
        """After "421 too many connections" at a greeting: as many as were open. Otherwise
        one more, up to the setting."""
        with self._lock:
            if any(lane.relay_full for lane in lanes):
                self.limit = max(1, sum(lane.connection is not None for lane in lanes))
            else:
                self.limit = min(self.connections, self.limit + 1)

    def send(self, message: OutgoingMessage) -> None:
        with self.lanes(1) as (lane,):
            lane.send(message)

    def shutdown(self) -> None:
        """Close the idle connections (at exit: their slots are freed at once). Not
        `close`: a caller's `with backend:` must not empty the pool."""
        with self._lock:
            idle, self._idle = self._idle, []
        for lane, _ in idle:
            lane.close()


_relays: dict[tuple, SMTPRelay] = {}
_relays_lock = threading.Lock()


def relay_for(key: tuple, make: Callable[[], SMTPRelay]) -> SMTPRelay:
    """One pool per process and relay configuration; a forked child makes its own (the
    parent's sockets are not its to use)."""
    key = (os.getpid(), *key)
    with _relays_lock:
        if key not in _relays:
            _relays[key] = make()
        return _relays[key]


def open_connections() -> int:
    """Connections this process holds open to relays now (read by each metrics scrape)."""
    pid = os.getpid()
    return sum(relay.open_connections() for key, relay in list(_relays.items()) if key[0] == pid)


metrics.RELAY_CONNECTIONS.set_function(open_connections)


@atexit.register
def _close_all() -> None:
    for relay in list(_relays.values()):
        relay.shutdown()
