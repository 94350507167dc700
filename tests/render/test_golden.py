"""Golden files: the specimen edition renders to exactly the committed text and inlined HTML.

A deliberate change to the templates or the CSS changes these files; regenerate them with
`make golden` (or `DIGEST_REGENERATE_GOLDEN=1 pytest tests/render/test_golden.py`) and review
the diff before committing.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from digest.render.digest import render_variant
from digest.render.variants import variant_key

GOLDEN = Path(__file__).parent / "golden"
REGENERATE = os.environ.get("DIGEST_REGENERATE_GOLDEN") == "1"


def assert_golden(name: str, actual: str) -> None:
    path = GOLDEN / name
    if REGENERATE:
        path.write_bytes(actual.encode("utf-8"))
    expected = path.read_bytes().decode("utf-8")
    assert actual == expected, (
        f"{name} differs from the golden file; if the change is intended, run `make golden` "
        "and review the diff")


@pytest.mark.parametrize("key, stem", [
    ("all", "digest-all"),
    (variant_key(["Science", "tech"]), "digest-science-tech"),
])
def test_the_specimen_renders_to_the_golden_files(sqlite_session, sqlite_settings, specimen, key, stem):
    rendered = render_variant(sqlite_session, sqlite_settings, specimen, key)
    assert_golden(f"{stem}.txt", rendered.text)
    assert_golden(f"{stem}.html", rendered.html)
    assert_golden(f"{stem}.subject", rendered.subject + "\n")
