"""Scoring and picking stories for a list. Pure functions: same inputs, same pick.

The score and the pick are explained in docs/ranking.md; the constants below are its knobs.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from digest.models import Story

# A story loses half its news value every HALF_LIFE_HOURS.
HALF_LIFE_HOURS = 12.0
# Each doubling of the number of independent sources carrying a story adds this much (x1).
COVERAGE_BONUS = 0.5
# Each doubling of (1 + earlier clicks on the story) adds this much (x1).
ENGAGEMENT_BONUS = 0.25
# The n-th story from an already represented section counts SECTION_SPREAD**n of its score
# while picking, so a list with several sections does not fill up from the busiest one.
SECTION_SPREAD = 0.8


@dataclass(frozen=True)
class Candidate:
    story: Story
    source_weight: float
    source_count: int = 1  # independent sources that carried the story (StorySource rows)
    clicks: int = 0        # "read more" clicks on the story in earlier editions


@dataclass(frozen=True)
class Ranked:
    story: Story
    score: float


@dataclass(frozen=True)
class Caps:
    limit: int
    per_source: int
    per_domain: int


def freshness(published_at: datetime, now: datetime) -> float:
    """1.0 for a story published now, halving every HALF_LIFE_HOURS; never above 1."""
    age_hours = max((now - published_at).total_seconds() / 3600, 0.0)
    return 0.5 ** (age_hours / HALF_LIFE_HOURS)


def score(candidate: Candidate, now: datetime) -> float:
    """(source weight + editor boost) x freshness x coverage x engagement."""
    coverage = 1 + COVERAGE_BONUS * math.log2(max(candidate.source_count, 1))
    engagement = 1 + ENGAGEMENT_BONUS * math.log2(1 + max(candidate.clicks, 0))
    value = max(candidate.source_weight + candidate.story.boost, 0.0)
    return value * freshness(candidate.story.published_at, now) * coverage * engagement


def domain(url: str) -> str:
    """The site a URL belongs to, without a leading www."""
    host = (urlsplit(url).hostname or "").lower()
    return host.removeprefix("www.")


def rank(candidates: list[Candidate], now: datetime) -> list[Ranked]:
    """Every eligible (not blocked) candidate, best first; ties break by recency, then by
    story id, so equal inputs always give the same order."""
    ranked = [Ranked(c.story, score(c, now)) for c in candidates if not c.story.blocked]
    return sorted(ranked, key=_order)


def pick(candidates: list[Candidate], *, now: datetime, caps: Caps) -> list[Ranked]:
    """The best `caps.limit` stories, in edition order, spread over sections, within the caps.

    Each step takes the story with the best score discounted by how many stories of its
    section are already in (SECTION_SPREAD), skipping any that would break the per-source
    or per-domain cap.
    """
    pool = rank(candidates, now)
    chosen: list[Ranked] = []
    per_source: Counter[int] = Counter()
    per_domain: Counter[str] = Counter()
    per_section: Counter[str] = Counter()

    def take(item: Ranked) -> None:
        chosen.append(item)
        per_source[item.story.source_id] += 1
        per_domain[domain(item.story.canonical_url)] += 1
        per_section[item.story.section] += 1

    def fits(item: Ranked) -> bool:
        return (per_source[item.story.source_id] < caps.per_source
                and per_domain[domain(item.story.canonical_url)] < caps.per_domain)

    while len(chosen) < caps.limit:
        eligible = [r for r in pool if fits(r)]
        if not eligible:
            break
        best = min(eligible, key=lambda r: (
            -r.score * SECTION_SPREAD ** per_section[r.story.section], *_order(r)[1:]))
        take(best)
        pool = [r for r in pool if r is not best]
    return chosen


def _order(item: Ranked) -> tuple:
    return (-item.score, -item.story.published_at.timestamp(), item.story.id)
