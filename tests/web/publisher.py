"""A publisher's own site for browser tests: pages served by a plain HTTP server on a
loopback address of its own (127.0.0.2, ...), so it is another origin and, its host
differing, another site than the app on 127.0.0.1: SameSite cookies do not cross."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Site:
    origin: str
    pages: dict[str, str] = field(default_factory=dict)   # path -> HTML, settable while serving


@contextmanager
def publisher_site(host: str = "127.0.0.2") -> Iterator[Site]:
    site = Site("")

    class Pages(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = site.pages.get(self.path)
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write((body or "not found").encode())

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer((host, 0), Pages)
    site.origin = f"http://{host}:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
