"""Which addresses the fetcher may connect to, enforced where the socket is opened.

Checking a host name and then letting the HTTP client resolve it again leaves a window
(DNS rebinding: the second answer may be 127.0.0.1). Here the name is resolved once, every
address is vetted, and the socket is opened to a vetted address: the check and the
connection cannot disagree. TLS still verifies the certificate against the host name.
The lookup, like every socket operation, ends by the fetch's deadline.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from concurrent.futures import Future
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


def _networks(*cidrs: str) -> tuple:
    return tuple(ipaddress.ip_network(cidr) for cidr in cidrs)


# Special-purpose ranges (the IANA registries, RFC 6890 and later) refused whatever this
# Python's ipaddress tables say: they change between versions, and 3.11 calls 64:ff9b:1::/48,
# 2002::/16 and fec0::/10 global. is_global still has the last word for anything else.
_IPV4_REFUSED = _networks(
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
    "172.16.0.0/12", "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16",
    "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4")
# IPv6 unicast on the Internet is 2000::/3 (outside it: loopback, IPv4-compatible ::/96,
# local-use NAT64 64:ff9b:1::/48, ULA, link- and site-local, multicast...); inside it, the
# IETF protocol assignments 2001::/23 (Teredo among them) and documentation are not.
_IPV6_UNICAST = ipaddress.IPv6Network("2000::/3")
_IPV6_REFUSED = _networks("2001::/23", "2001:db8::/32", "3fff::/20")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one reaches: IPv4-mapped, well-known NAT64 and 6to4 carry it
    in their bits, and the translator or relay on the way delivers to it."""
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address.ipv4_mapped or address.sixtofour


def is_public(text: str) -> bool:
    """Whether the fetcher may connect to this address: globally routable unicast, judged by
    the IPv4 address inside it when it carries one."""
    address = ipaddress.ip_address(text.split("%", 1)[0])
    if isinstance(address, ipaddress.IPv6Address):
        inner = _embedded_ipv4(address)
        if inner is not None:
            address = inner
        elif address not in _IPV6_UNICAST or any(address in net for net in _IPV6_REFUSED):
            return False
    if isinstance(address, ipaddress.IPv4Address) and any(address in net for net in _IPV4_REFUSED):
        return False
    return address.is_global


def literal_address_refused(host: str, policy: AddressPolicy) -> str | None:
    """Why a source whose URL names this host is refused before any lookup: an address
    written in the URL, or a localhost name, that the fetcher could never reach. Names that
    resolve to such addresses are refused when fetched (`vetted_addresses`)."""
    if policy.trusts(host):
        return None
    name = host.lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return f"{host} is a loopback name"
    try:
        public = is_public(name.strip("[]"))
    except ValueError:
        return None  # a host name
    return None if public else f"{host} is a private or reserved address"


def resolve(host: str, port: int, timeout: float) -> list[str]:
    """The addresses of `host`, in getaddrinfo's order; ConnectTimeout after `timeout` seconds.

    getaddrinfo cannot be interrupted, and a resolver that does not answer holds it for
    its timeout x attempts x servers, far past a fetch's deadline. So it runs in a daemon
    thread: a lookup still going when the time is up is abandoned there, and ends (its
    answer thrown away) when the resolver gives up.
    """
    answer: Future[list] = Future()

    def lookup() -> None:
        try:
            answer.set_result(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM))
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting fetch
            answer.set_exception(exc)

    threading.Thread(target=lookup, name=f"resolve {host}", daemon=True).start()
    try:
        infos = answer.result(timeout)
    except TimeoutError:
        raise httpcore.ConnectTimeout(f"resolving {host} took longer than {timeout:.1f}s") from None
    except (socket.gaierror, UnicodeError) as exc:
        raise FetchError(f"cannot resolve {host}: {getattr(exc, 'strerror', None) or exc}") from None
    return list(dict.fromkeys(info[4][0] for info in infos))


def vetted_addresses(host: str, port: int, policy: AddressPolicy, timeout: float) -> list[str]:
    """The addresses `host` resolves to (within `timeout` seconds), all of them allowed by
    the policy, or AddressRefused."""
    addresses = resolve(host, port, timeout)
    if not policy.trusts(host):
        for address in addresses:
            if not is_public(address):
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

    def _time_left(self, timeout: float | None) -> float:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise httpcore.ConnectTimeout("the fetch deadline has passed")
        return min(timeout or remaining, remaining)

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        last_error: Exception | None = None
        for address in vetted_addresses(host, port, self.policy, self._time_left(timeout)):
            time_left = self._time_left(timeout)
            try:
                stream = super().connect_tcp(address, port, time_left, local_address, socket_options)
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
