"""Ingestion: fetch feeds, parse them, clean entries into stories, never break the run."""
