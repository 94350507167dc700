"""Click tracking: signed "read more" links through /r/ and the clicks they record."""
