"""Which addresses the fetcher may connect to, enforced where the socket is opened.

Checking a host name and then letting the HTTP client resolve it again leaves a window
(DNS rebinding: the second answer may be 127.0.0.1). Here the name is resolved once, every
address is vetted, and the socket is opened to a vetted address: the check and the
connection cannot disagree. TLS still verifies the certificate against the host name.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from dataclasses import dataclass, field

import httpcore
import httpx


class FetchError(Exception):
    """The URL could not be fetched; the message says why in one line."""


class AddressRefused(FetchError):
    """The host resolves to an address the fetcher must not reach."""


@dataclass(frozen=True)
class AddressPolicy:
    # Everything allowed: only for a trusted network (or a lab).
    allow_private: bool = False
    # Host names (lowercase, as written in URLs) allowed whatever they resolve to.
    allowed_hosts: frozenset[str] = field(default_factory=frozenset)

    def trusts(self, host: str) -> bool:
        return self.allow_private or host.lower().rstrip(".") in self.allowed_hosts


def public_address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address if it is globally routable, else None (IPv4-mapped IPv6 judged as IPv4)."""
    address = ipaddress.ip_address(text.split("%", 1)[0])
    if isinstance(address, ipaddress.IPv6Address):
        # ::ffff:127.0.0.1 and 64:ff9b::a.b.c.d reach the IPv4 address inside them.
        inner = address.ipv4_mapped or (
            ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
            if address in ipaddress.IPv6Network("64:ff9b::/96") else None)
        if inner is not None:
            address = inner
    return address if address.is_global and not address.is_multicast else None


def vetted_addresses(host: str, port: int, policy: AddressPolicy) -> list[str]:
    """The addresses `host` resolves to, all of them allowed by the policy, or AddressRefused."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise FetchError(f"cannot resolve {host}: {getattr(exc, 'strerror', None) or exc}") from None
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not policy.trusts(host):
        for address in addresses:
            if public_address(address) is None:
                raise AddressRefused(f"refused {host}: it resolves to non-public address {address}")
    return addresses


class DeadlineStream(httpcore.NetworkStream):
    """A socket stream whose every operation ends by the deadline (time.monotonic()).

    Read timeouts alone let a server that sends a byte now and then, in the headers as in
    the body, hold a fetch for ever."""

    def __init__(self, stream: httpcore.NetworkStream, deadline: float) -> None:
        self.stream, self.deadline = stream, deadline

    def _bounded(self, timeout: float | None) -> float:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise httpcore.ReadTimeout("the fetch deadline has passed")
        return remaining if timeout is None else min(timeout, remaining)

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self.stream.read(max_bytes, self._bounded(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self.stream.write(buffer, self._bounded(timeout))

    def close(self) -> None:
        self.stream.close()

    def start_tls(self, ssl_context, server_hostname=None, timeout=None) -> httpcore.NetworkStream:
        return DeadlineStream(
            self.stream.start_tls(ssl_context, server_hostname, self._bounded(timeout)), self.deadline)

    def get_extra_info(self, info: str):
        return self.stream.get_extra_info(info)


class VettingBackend(httpcore.SyncBackend):
    """httpcore's socket backend, connecting only to addresses the policy allows, with every
    socket operation bounded by `deadline` (time.monotonic())."""

    def __init__(self, policy: AddressPolicy, deadline: float) -> None:
        self.policy, self.deadline = policy, deadline

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        last_error: Exception | None = None
        for address in vetted_addresses(host, port, self.policy):
            remaining = self.deadline - time.monotonic()
            if remaining <= 0:
                raise httpcore.ConnectTimeout("the fetch deadline has passed")
            try:
                stream = super().connect_tcp(address, port, min(timeout or remaining, remaining),
                                             local_address, socket_options)
                return DeadlineStream(stream, self.deadline)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last_error = exc  # e.g. an IPv6 address on a host without IPv6: try the next
        raise last_error or httpcore.ConnectError(f"no address for {host}")


class VettingTransport(httpx.HTTPTransport):
    """An httpx transport whose every connection goes through :class:`VettingBackend`.

    httpx has no public hook for the network backend, so the connection pool is rebuilt
    with it; environment proxies are ignored (a proxy would make the vetting meaningless).
    One transport serves one fetch: `deadline` (time.monotonic()) ends all of it.
    """

    def __init__(self, policy: AddressPolicy, deadline: float) -> None:
        super().__init__(trust_env=False)
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=10, max_keepalive_connections=5, keepalive_expiry=5.0,
            network_backend=VettingBackend(policy, deadline),
        )
