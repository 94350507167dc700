"""Newsletter curation and email digest service."""

from pathlib import Path

#: The checkout root: templates/, migrations/ and config/ live beside the package.
PROJECT_ROOT = Path(__file__).resolve().parent.parent
