"""Imports go one way: the renderer is handed every personal value (links, tokens, the
greeting) by its caller, so it can be used and tested without subscribers at all."""

import ast
from pathlib import Path

import digest

PACKAGE = Path(digest.__file__).parent


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_the_renderer_imports_nothing_of_subscribers_or_sending():
    offenders = {
        f"{path.relative_to(PACKAGE)} imports {module}"
        for path in (PACKAGE / "render").glob("*.py")
        for module in imported_modules(path)
        if module.startswith(("digest.subscribers", "digest.send", "digest.web"))
    }
    assert offenders == set()
