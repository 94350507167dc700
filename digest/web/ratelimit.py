"""Sign-up rate limits per client IP and per address, in Redis (shared by every web
process) when one is configured, else in this process's memory."""

from __future__ import annotations

from limits import parse, storage, strategies

from digest.settings import Settings
from digest.subscribers.suppression import email_hash


class SignUpLimits:
    def __init__(self, settings: Settings) -> None:
        backend = storage.storage_from_string(settings.rate_limit_storage)
        self.limiter = strategies.MovingWindowRateLimiter(backend)
        self.per_ip = parse(settings.signup_limit_per_ip)
        self.per_address = parse(settings.signup_limit_per_address)
        # Several deployments may share one Redis: keep their counters apart.
        self.namespace = f"digest-signup:{settings.celery_queue}"

    def allow_ip(self, ip: str) -> bool:
        return self.limiter.hit(self.per_ip, self.namespace, "ip", ip)

    def allow_address(self, address: str) -> bool:
        # Only a hash goes to the store: the limiter is no second copy of the list.
        return self.limiter.hit(self.per_address, self.namespace, "address", email_hash(address))
