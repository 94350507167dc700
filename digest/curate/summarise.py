"""Extractive summaries: the lead sentences, cut at a sentence boundary."""

from __future__ import annotations

import re

TARGET_WORDS = 50
# A sentence ends at . ! ? (optionally closed by a quote or bracket) followed by a capital.
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"'\u201d\u2019)\]]?\s+(?=[\"'\u201c\u2018(\[]?[A-Z0-9])")


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]


def summarise(text: str, target_words: int = TARGET_WORDS) -> str:
    """Whole lead sentences up to about `target_words`; never cut mid-word."""
    chosen: list[str] = []
    words = 0
    for sentence in sentences(text):
        count = len(sentence.split())
        if chosen and words + count > target_words * 1.2:
            break
        chosen.append(sentence)
        words += count
        if words >= target_words * 0.8:
            break
    summary = " ".join(chosen)
    if len(summary.split()) > target_words * 1.5:
        # One very long first sentence: cut at a word boundary and say so.
        summary = " ".join(summary.split()[:target_words]).rstrip(",;:") + "\u2026"
    return summary
