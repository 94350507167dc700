import pytest

from digest.models import DigestList


@pytest.fixture
def news(session) -> DigestList:
    """An empty list with two sections (topics)."""
    digest_list = DigestList(slug="news", name="The News", sections=["world", "science"])
    session.add(digest_list)
    session.commit()
    return digest_list
