"""Fetching feeds and pages over HTTP without becoming a proxy into the private network.

Every hop (the first request and each redirect) is an http(s) URL whose host resolves
only to public addresses, and the socket goes to an address that was checked (see
:mod:`digest.ingest.network`, which also bounds every socket operation by the fetch's
deadline). Bodies are capped after decompression, and a 304 answer to a conditional GET
comes back as "not modified".
"""

from __future__ import annotations

import time
import zlib
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import httpx

from digest.ingest.network import AddressPolicy, FetchError, VettingTransport
from digest.settings import Settings

__all__ = ["FetchError", "FetchLimits", "FetchResult", "fetch", "limits_from"]

USER_AGENT = "digest-newsletter/0.1 (feed fetcher; +https://github.com/digest/digest)"
REDIRECTS = {301, 302, 303, 307, 308}


@dataclass(frozen=True)
class FetchLimits:
    policy: AddressPolicy = AddressPolicy()
    timeout: float = 10.0          # connect and each read
    deadline: float = 30.0         # the whole fetch, redirects included
    max_bytes: int = 5 * 1024 * 1024
    max_redirects: int = 5


def limits_from(settings: Settings) -> FetchLimits:
    return FetchLimits(
        policy=AddressPolicy(settings.fetch_allow_private, frozenset(settings.fetch_allowed_hosts)),
        timeout=settings.fetch_timeout_seconds, deadline=settings.fetch_deadline_seconds,
        max_bytes=settings.fetch_max_bytes, max_redirects=settings.fetch_max_redirects)


@dataclass
class FetchResult:
    url: str                   # after redirects: the base for relative links
    content: bytes | None      # None when the server answered 304 Not Modified
    etag: str | None
    last_modified: str | None
    content_type: str | None = None


def fetch(url: str, limits: FetchLimits = FetchLimits(), *, etag: str | None = None,
          last_modified: str | None = None, accept: str = "*/*") -> FetchResult:
    """GET `url` within the limits; FetchError (one line) for anything but a usable answer."""
    started = time.monotonic()
    headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "gzip", "Accept": accept}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    timeout = httpx.Timeout(limits.timeout)
    transport = VettingTransport(limits.policy, started + limits.deadline)
    with httpx.Client(transport=transport, timeout=timeout,
                      follow_redirects=False, trust_env=False) as client:
        for _ in range(limits.max_redirects + 1):
            _check_url(url)
            try:
                with client.stream("GET", url, headers=headers) as response:
                    if response.status_code in REDIRECTS and "location" in response.headers:
                        url = urljoin(url, response.headers["location"].strip())
                        continue
                    if response.status_code == 304:
                        return FetchResult(url, None, etag, last_modified)
                    if response.status_code >= 400:
                        raise FetchError(f"HTTP {response.status_code} from {url}")
                    if not 200 <= response.status_code < 300:
                        raise FetchError(f"unexpected HTTP {response.status_code} from {url}")
                    body = _read_body(response, limits)
                    return FetchResult(url, body, response.headers.get("etag"),
                                       response.headers.get("last-modified"),
                                       response.headers.get("content-type"))
            except httpx.TimeoutException:
                if time.monotonic() - started >= limits.deadline:
                    raise FetchError(f"took longer than the {limits.deadline:g}s deadline "
                                     f"fetching {url}") from None
                raise FetchError(f"timed out after {limits.timeout:g}s fetching {url}") from None
            except (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError) as exc:
                raise FetchError(f"{type(exc).__name__} fetching {url}: {exc}") from None
    raise FetchError(f"more than {limits.max_redirects} redirects, last to {url}")


def _check_url(url: str) -> None:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError as exc:
        raise FetchError(f"invalid URL {url!r}: {exc}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FetchError(f"refused {url!r}: only http(s) URLs can be fetched")


def _read_body(response: httpx.Response, limits: FetchLimits) -> bytes:
    """The decoded body, refused once it passes max_bytes (after gunzip)."""
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limits.max_bytes:
        raise FetchError(f"response of {int(declared)} bytes is over the {limits.max_bytes}-byte limit")
    encoding = response.headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("identity", "", "gzip", "x-gzip"):
        raise FetchError(f"unsupported content encoding {encoding!r}")
    # Decompress ourselves with max_length: a few KB of gzip can expand to gigabytes.
    gunzip = zlib.decompressobj(16 + zlib.MAX_WBITS) if encoding.endswith("gzip") else None
    body = bytearray()
    try:
        for chunk in response.iter_raw():
            while chunk:
                if gunzip is None:
                    body += chunk
                    chunk = b""
                else:
                    body += gunzip.decompress(chunk, limits.max_bytes + 1 - len(body))
                    chunk = gunzip.unconsumed_tail
                if len(body) > limits.max_bytes:
                    raise FetchError(f"response larger than the {limits.max_bytes}-byte limit")
    except zlib.error as exc:
        raise FetchError(f"corrupt gzip body: {exc}") from None
    return bytes(body)
