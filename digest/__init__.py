"""Newsletter curation and email digest service."""

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
#: The checkout root (tests and benchmarks live there); an installed package has none.
PROJECT_ROOT = PACKAGE_DIR.parent


def resource(name: str) -> Path:
    """The project's `templates`, `migrations` or `config` directory. A checkout keeps them
    at the top, beside the package; a wheel carries them inside it (hatch `force-include`
    in pyproject.toml), so an installed package needs no checkout."""
    packaged = PACKAGE_DIR / name
    return packaged if packaged.is_dir() else PROJECT_ROOT / name
