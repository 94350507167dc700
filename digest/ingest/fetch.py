"""Fetching feeds over HTTP without becoming a proxy into the private network."""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import httpx

USER_AGENT = "digest-newsletter/0.1 (+feed fetcher)"
MAX_BYTES = 5 * 1024 * 1024
MAX_REDIRECTS = 5
TIMEOUT = httpx.Timeout(10.0, connect=5.0)


class FetchError(Exception):
    """The URL could not be fetched; the message says why in one line."""


@dataclass
class FetchResult:
    url: str
    content: bytes | None  # None when the server answered 304 Not Modified
    etag: str | None
    last_modified: str | None


def check_public(url: str, allow_private: bool = False) -> None:
    """Refuse non-http(s) URLs and hosts that resolve to non-public addresses."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FetchError(f"refused {url!r}: only http(s) URLs can be fetched")
    if allow_private:
        return
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise FetchError(f"cannot resolve {parts.hostname}: {exc.strerror}") from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped
        if not address.is_global:
            raise FetchError(f"refused {url!r}: {parts.hostname} resolves to non-public {address}")


def fetch(url: str, *, etag: str | None = None, last_modified: str | None = None,
          allow_private: bool = False) -> FetchResult:
    """GET with a conditional request, a size cap and redirects checked hop by hop."""
    headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "gzip, deflate"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    with httpx.Client(timeout=TIMEOUT, follow_redirects=False) as client:
        for _ in range(MAX_REDIRECTS + 1):
            check_public(url, allow_private)
            try:
                with client.stream("GET", url, headers=headers) as response:
                    if response.is_redirect:
                        url = urljoin(url, response.headers["location"])
                        continue
                    if response.status_code == 304:
                        return FetchResult(url, None, etag, last_modified)
                    if response.status_code >= 400:
                        raise FetchError(f"HTTP {response.status_code} from {url}")
                    return FetchResult(url, _read_capped(response),
                                       response.headers.get("etag"),
                                       response.headers.get("last-modified"))
            except httpx.HTTPError as exc:
                raise FetchError(f"{type(exc).__name__} fetching {url}: {exc}") from None
    raise FetchError(f"more than {MAX_REDIRECTS} redirects from {url}")


def _read_capped(response: httpx.Response) -> bytes:
    chunks, size = [], 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > MAX_BYTES:
            raise FetchError(f"response larger than {MAX_BYTES // 1024} KiB")
        chunks.append(chunk)
    return b"".join(chunks)
