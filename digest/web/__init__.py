"""The web door: FastAPI app serving subscriber pages, the archive and a small JSON API."""
