import pytest

from digest import migrate
from digest.ingest.fetch import FetchLimits
from digest.ingest.network import AddressPolicy
from digest.settings import get_settings


@pytest.fixture
def limits() -> FetchLimits:
    """Only `localhost` is trusted: 127.0.0.1 by its address is refused like any private one."""
    return FetchLimits(policy=AddressPolicy(allowed_hosts=frozenset({"localhost"})),
                       timeout=2.0, deadline=1.5, max_bytes=64 * 1024, max_redirects=3)


@pytest.fixture
def door_database(tmp_path, monkeypatch) -> str:
    """For the doors (CLI, Celery task) that read their settings from the environment, as in
    production: a fresh SQLite database, and `localhost` allowed for the feed server."""
    url = f"sqlite:///{tmp_path / 'door.db'}"
    migrate.upgrade(url)
    monkeypatch.setenv("DIGEST_DATABASE_URL", url)
    monkeypatch.setenv("DIGEST_FETCH_ALLOWED_HOSTS", "localhost")
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()
