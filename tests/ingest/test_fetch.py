"""The fetcher against a real HTTP server on 127.0.0.1."""

import gzip
import shutil
import socket
import ssl
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from digest.ingest.fetch import FetchError, FetchLimits, fetch
from digest.ingest.network import AddressPolicy, AddressRefused, is_public
from tests.ingest.feed_server import Reply

FEED = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>'


def test_a_conditional_get_answered_304_comes_back_as_not_modified(feed_server, limits):
    def feed(handler):
        if handler.headers.get("If-None-Match") == '"v1"':
            return Reply(304)
        return Reply(200, FEED, {"ETag": '"v1"', "Last-Modified": "Wed, 01 Jan 2025 00:00:00 GMT",
                                 "Content-Type": "application/rss+xml"})
    feed_server.routes["/feed"] = feed

    first = fetch(feed_server.url("/feed"), limits)
    second = fetch(feed_server.url("/feed"), limits, etag=first.etag,
                   last_modified=first.last_modified)

    assert first.content == FEED and first.etag == '"v1"'
    assert first.content_type == "application/rss+xml"
    assert second.content is None and second.etag == '"v1"'
    headers = feed_server.requests[-1][1]
    assert headers["If-Modified-Since"] == "Wed, 01 Jan 2025 00:00:00 GMT"
    assert headers["User-Agent"].startswith("digest-newsletter/")


def test_gzip_bodies_are_decompressed(feed_server, limits):
    feed_server.routes["/gz"] = Reply(200, gzip.compress(FEED), {"Content-Encoding": "gzip"})
    assert fetch(feed_server.url("/gz"), limits).content == FEED
    assert "gzip" in feed_server.requests[-1][1]["Accept-Encoding"]


def test_an_oversize_body_is_cut_off(feed_server, limits):
    feed_server.routes["/big"] = Reply(200, iter([b"x" * 16384] * 8))  # 128 KiB, no length
    with pytest.raises(FetchError, match="larger than the 65536-byte limit"):
        fetch(feed_server.url("/big"), limits)


def test_an_oversize_declared_length_is_refused_before_reading(feed_server, limits):
    feed_server.routes["/declared"] = Reply(200, b"x" * 70000)
    with pytest.raises(FetchError, match="70000 bytes is over"):
        fetch(feed_server.url("/declared"), limits)


def test_a_gzip_bomb_is_cut_off_after_decompression(feed_server, limits):
    bomb = gzip.compress(b"\0" * 5_000_000)  # ~5 KB on the wire, 5 MB inflated
    feed_server.routes["/bomb"] = Reply(200, bomb, {"Content-Encoding": "gzip"})
    with pytest.raises(FetchError, match="larger than the 65536-byte limit"):
        fetch(feed_server.url("/bomb"), limits)


def test_a_slow_drip_body_is_cut_off_at_the_deadline(feed_server, limits):
    # Each chunk arrives well within the read timeout; together they pass the deadline.
    feed_server.routes["/slow"] = Reply(200, iter([b"<rss>"] * 40), drip=0.1)
    with pytest.raises(FetchError, match="deadline"):
        fetch(feed_server.url("/slow"), limits)


def test_a_stalled_server_times_out(feed_server):
    feed_server.routes["/stall"] = Reply(200, iter([b"<rss>", b"</rss>"]), drip=1.0)
    quick = FetchLimits(policy=AddressPolicy(allowed_hosts=frozenset({"localhost"})),
                        timeout=0.3, deadline=5)
    with pytest.raises(FetchError, match="timed out"):
        fetch(feed_server.url("/stall"), quick)


def test_a_redirect_chain_is_followed_to_the_end(feed_server, limits):
    feed_server.routes["/a"] = Reply(301, headers={"Location": "/b"})
    feed_server.routes["/b"] = Reply(302, headers={"Location": feed_server.url("/c")})
    feed_server.routes["/c"] = Reply(307, headers={"Location": "feed"})
    feed_server.routes["/feed"] = Reply(200, FEED)
    result = fetch(feed_server.url("/a"), limits)
    assert result.content == FEED and result.url == feed_server.url("/feed")


def test_too_many_redirects_are_refused(feed_server, limits):
    feed_server.routes["/loop"] = Reply(302, headers={"Location": "/loop"})
    with pytest.raises(FetchError, match="more than 3 redirects"):
        fetch(feed_server.url("/loop"), limits)


@pytest.mark.parametrize("target", [
    "http://127.0.0.1:{port}/feed",
    "http://169.254.169.254/latest/meta-data/",
    "http://[::ffff:127.0.0.1]:{port}/feed",
    "http://[::1]:{port}/feed",
    "http://10.0.0.1/feed",
])
def test_a_redirect_to_a_private_address_is_refused(feed_server, limits, target):
    feed_server.routes["/feed"] = Reply(200, FEED)
    feed_server.routes["/hop"] = Reply(302, headers={"Location": target.format(port=feed_server.port)})
    with pytest.raises(AddressRefused, match="non-public address"):
        fetch(feed_server.url("/hop"), limits)
    assert [path for path, _ in feed_server.requests] == ["/hop"]


@pytest.mark.parametrize("target", ["file:///etc/passwd", "ftp://example.com/feed", "gopher://x/"])
def test_a_redirect_to_another_scheme_is_refused(feed_server, limits, target):
    feed_server.routes["/hop"] = Reply(302, headers={"Location": target})
    with pytest.raises(FetchError, match="only http"):
        fetch(feed_server.url("/hop"), limits)


def test_without_the_allow_list_even_the_first_request_to_loopback_is_refused(feed_server):
    feed_server.routes["/feed"] = Reply(200, FEED)
    with pytest.raises(AddressRefused, match="localhost: it resolves to non-public address"):
        fetch(feed_server.url("/feed"), FetchLimits())
    assert feed_server.requests == []


def test_allow_private_reaches_any_address(feed_server):
    feed_server.routes["/feed"] = Reply(200, FEED)
    result = fetch(feed_server.url("/feed", host="127.0.0.1"),
                   FetchLimits(policy=AddressPolicy(allow_private=True)))
    assert result.content == FEED


def test_http_errors_are_one_line_reasons(feed_server, limits):
    feed_server.routes["/gone"] = Reply(410, b"gone")
    with pytest.raises(FetchError, match=r"^HTTP 410 from http://localhost:\d+/gone$"):
        fetch(feed_server.url("/gone"), limits)


@pytest.mark.parametrize("address, public, why", [
    ("8.8.8.8", True, "global unicast"),
    ("2606:4700:4700::1111", True, "global unicast"),
    ("127.0.0.1", False, "loopback"),
    ("10.1.2.3", False, "private"),
    ("172.16.0.1", False, "private"),
    ("192.168.1.1", False, "private"),
    ("169.254.169.254", False, "link-local: cloud metadata"),
    ("100.64.0.1", False, "shared address space (CGNAT)"),
    ("0.0.0.0", False, "this network"),
    ("192.0.0.8", False, "IETF protocol assignments"),
    ("192.0.2.1", False, "documentation"),
    ("192.88.99.1", False, "6to4 relay anycast, deprecated"),
    ("198.18.0.1", False, "benchmarking"),
    ("198.51.100.7", False, "documentation"),
    ("224.0.0.1", False, "multicast"),
    ("233.252.0.1", False, "multicast"),
    ("240.0.0.1", False, "reserved"),
    ("255.255.255.255", False, "broadcast"),
    ("::1", False, "loopback"),
    ("::", False, "unspecified"),
    ("fe80::1%eth0", False, "link-local"),
    ("fc00::1", False, "unique local"),
    ("fec0::1", False, "site-local, deprecated"),
    ("ff02::1", False, "multicast"),
    ("ff0e::1", False, "global multicast"),
    ("100::1", False, "discard-only"),
    ("5f00::1", False, "SRv6 SIDs"),
    ("2001:db8::1", False, "documentation"),
    ("3fff::1", False, "documentation"),
    ("2001:2::1", False, "benchmarking"),
    ("2001:0:4136:e378:8000:63bf:3fff:fdd2", False, "Teredo"),
    ("::ffff:127.0.0.1", False, "IPv4-mapped loopback"),
    ("::ffff:8.8.8.8", True, "IPv4-mapped global"),
    ("::7f00:1", False, "IPv4-compatible, deprecated"),
    ("::808:808", False, "IPv4-compatible, deprecated"),
    ("64:ff9b::7f00:1", False, "NAT64 to loopback"),
    ("64:ff9b::a00:1", False, "NAT64 to a private address"),
    ("64:ff9b::808:808", True, "NAT64 to a global address"),
    ("64:ff9b:1::808:808", False, "local-use NAT64: the translator is ours"),
    ("64:ff9b:1::a00:1", False, "local-use NAT64"),
    ("2002:7f00:1::1", False, "6to4 of loopback"),
    ("2002:a9fe:a9fe::1", False, "6to4 of the metadata address"),
    ("2002:808:808::1", True, "6to4 of a global address"),
])
def test_which_addresses_count_as_public(address, public, why):
    assert is_public(address) == public, why


@pytest.mark.parametrize("target", ["http://[::1/feed", "http://localhost:port/feed"])
def test_a_redirect_to_a_broken_url_is_a_fetch_error(feed_server, limits, target):
    feed_server.routes["/hop"] = Reply(302, headers={"Location": target})
    with pytest.raises(FetchError, match="(?i)invalid url"):
        fetch(feed_server.url("/hop"), limits)


class QuietServer(HTTPServer):
    def handle_error(self, request, client_address) -> None:
        pass  # the refused TLS handshake is the point of the test


def test_https_goes_through_the_vetted_connection_and_verifies_certificates(tmp_path, limits):
    """A self-signed certificate is refused: TLS runs over the vetted socket with verification on."""
    openssl = shutil.which("openssl")
    assert openssl, "openssl is needed to make a test certificate"
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = QuietServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.handle_request, daemon=True)
    thread.start()
    try:
        with pytest.raises(FetchError, match="CERTIFICATE_VERIFY_FAILED"):
            fetch(f"https://localhost:{server.server_address[1]}/feed", limits)
    finally:
        thread.join(timeout=5)
        server.server_close()


def test_headers_trickling_in_are_cut_off_at_the_deadline(limits):
    """A server that sends its status line a byte at a time never trips the read timeout."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def trickle():
        connection, _ = listener.accept()
        with connection:
            for byte in b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\n" * 10:
                if stop.wait(0.1):
                    return
                try:
                    connection.sendall(bytes([byte]))
                except OSError:
                    return
    thread = threading.Thread(target=trickle, daemon=True)
    thread.start()
    try:
        with pytest.raises(FetchError, match="longer than the 1.5s deadline"):
            fetch(f"http://localhost:{listener.getsockname()[1]}/feed", limits)
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()


def test_a_resolver_that_never_answers_is_cut_off_at_the_deadline(monkeypatch, limits):
    """getaddrinfo blocks for as long as the resolver takes; the fetch's deadline still holds."""
    release = threading.Event()

    def unanswered(*args, **kwargs):
        release.wait(30)
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")
    monkeypatch.setattr(socket, "getaddrinfo", unanswered)
    started = time.monotonic()
    try:
        with pytest.raises(FetchError, match="longer than the 1.5s deadline fetching http://slow-dns"):
            fetch("http://slow-dns.example.org/feed", limits)
    finally:
        release.set()
    assert time.monotonic() - started < 2.5
