"""Sending: the delivery ledger, batches, retries, pause/resume/cancel."""
