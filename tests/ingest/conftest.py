import pytest

from digest.ingest.fetch import FetchLimits
from digest.ingest.network import AddressPolicy
from tests.ingest.feed_server import FeedServer


@pytest.fixture
def feed_server():
    server = FeedServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def limits() -> FetchLimits:
    """Only `localhost` is trusted: 127.0.0.1 by its address is refused like any private one."""
    return FetchLimits(policy=AddressPolicy(allowed_hosts=frozenset({"localhost"})),
                       timeout=2.0, deadline=1.5, max_bytes=64 * 1024, max_redirects=3)
