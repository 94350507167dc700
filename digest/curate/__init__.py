"""Curation: rank fresh stories, summarise them, and build the draft edition editors shape."""
