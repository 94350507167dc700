"""Scoring and picking stories for a list. Pure functions: same inputs, same pick."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from digest.models import Story

HALF_LIFE_HOURS = 12.0


@dataclass(frozen=True)
class Candidate:
    story: Story
    source_weight: float


@dataclass(frozen=True)
class Ranked:
    story: Story
    score: float


def score(candidate: Candidate, now: datetime) -> float:
    """Source weight decayed by age: a story loses half its weight every HALF_LIFE_HOURS."""
    age_hours = max((now - candidate.story.published_at).total_seconds() / 3600, 0.0)
    return candidate.source_weight * 0.5 ** (age_hours / HALF_LIFE_HOURS)


def pick(candidates: list[Candidate], *, now: datetime, limit: int, per_source_cap: int) -> list[Ranked]:
    """The best `limit` stories, at most `per_source_cap` from one source; ties by recency, then id."""
    ranked = sorted(
        (Ranked(c.story, score(c, now)) for c in candidates),
        key=lambda r: (-r.score, -r.story.published_at.timestamp(), r.story.id),
    )
    per_source: Counter[int] = Counter()
    chosen = []
    for item in ranked:
        if per_source[item.story.source_id] >= per_source_cap:
            continue
        per_source[item.story.source_id] += 1
        chosen.append(item)
        if len(chosen) == limit:
            break
    return chosen
