"""Fixtures for rendering tests: the fixed specimen edition on SQLite (rendering does not
depend on the database backend; the send hook's test uses both)."""

from __future__ import annotations

import pytest

from tests.render.specimen import specimen_edition


@pytest.fixture
def specimen(sqlite_session):
    return specimen_edition(sqlite_session)
