"""No story twice: a reader of several lists does not get a story again in another list's
edition within DIGEST_NO_REPEAT_DAYS.

At send start, once the ledger rows exist: which of this edition's stories reached which of
its readers (set-based, a few queries whatever the number of readers), reserves added to
the edition as spare stories when anyone needs them, and the readers regrouped by what
their copy leaves out. Readers with the same topics and the same stories to leave out
share one variant (``"topics:tech;skip:12"``), so rendering stays once per variant; at most
DIGEST_MAX_VARIANTS variants, and readers beyond that get the allowed variant that repeats
least for them, counted on the edition (``repeats_over_cap``) for the send report.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_
from sqlmodel import Session, select

from digest.curate.editions import candidates, new_item
from digest.curate.rank import Caps, pick
from digest.models import (
    Delivery, DeliveryStatus, DigestList, Edition, EditionItem, EditionVariant, Subscription,
    SubscriptionStatus, utcnow,
)
from digest.render.variants import (
    ALL, VariantError, variant_key, variant_parts, variant_pool, variant_stories,
)
from digest.settings import Settings


@dataclass(frozen=True)
class Regrouped:
    groups: dict[str, list[int]]  # variant key -> subscriber ids (readers of "all" left out)
    leaving_out: int = 0          # readers whose copy leaves out a story they had
    repeats_over_cap: int = 0     # readers who get a story again because of the variant cap


def regroup(session: Session, settings: Settings, edition: Edition, groups: dict[str, list[int]],
            *, now: datetime | None = None) -> Regrouped:
    """`groups` (topic variant -> subscribers; everyone else gets "all") split by the stories
    each reader already had, adding reserves to the edition when a reader needs them."""
    if settings.no_repeat_days <= 0:
        return Regrouped(groups)
    now = now or utcnow()
    items = _items(session, edition.id)
    had = reached(session, settings, edition, {i.story_id for i in items}, now=now)
    if not had:
        return Regrouped(groups)
    wanted = min(settings.no_repeat_reserves, max(len(stories) for stories in had.values()))
    reserves = add_reserves(session, edition, wanted, now=now)
    for subscriber_id, stories in reached(session, settings, edition,
                                          {r.story_id for r in reserves}, now=now).items():
        had.setdefault(subscriber_id, set()).update(stories)
    topic_of = {sid: key for key, sids in groups.items() for sid in sids}
    # Only stories that could be in the copy count: readers whose copies match share a variant.
    could_be = {key: {i.story_id for pool in variant_pool(items, reserves, variant_parts(key)[0])
                      for i in pool} for key in {*groups, ALL}}
    wish: defaultdict[tuple[str, frozenset[int]], list[int]] = defaultdict(list)
    for subscriber_id, stories in had.items():
        topic_key = topic_of.get(subscriber_id, ALL)
        wish[topic_key, frozenset(stories & could_be[topic_key])].append(subscriber_id)
    final = {key: [sid for sid in sids if sid not in had] for key, sids in groups.items()}
    final.setdefault(ALL, [])
    for topic_key in {topic_key for topic_key, skip in wish if not skip}:
        final[topic_key].extend(wish.pop((topic_key, frozenset())))
    for key, subscriber_ids in _capped(settings, len(final), wish).items():
        final.setdefault(key, []).extend(subscriber_ids)
    over = 0
    for (topic_key, skip), subscriber_ids in wish.items():
        if _name(topic_key, skip) in final:
            continue
        for subscriber_id in subscriber_ids:
            nearest, repeats = _nearest(items, reserves, topic_key, set(final), had[subscriber_id])
            final[nearest].append(subscriber_id)
            over += bool(repeats)
    edition.repeats_over_cap = over
    leaving_out = sum(len(sids) for key, sids in final.items() if variant_parts(key)[1])
    return Regrouped({key: sids for key, sids in final.items() if key != ALL and sids},
                     leaving_out, over)


def reached(session: Session, settings: Settings, edition: Edition, story_ids: set[int],
            *, now: datetime) -> dict[int, set[int]]:
    """{subscriber: the stories of `story_ids` that reached them}: readers of this edition's
    list to whom another edition's mail containing those stories was sent within the window.

    What a mail contained is its stored variant's story list (for variants stored before
    they kept one: the edition's items)."""
    if not story_ids:
        return {}
    cutoff = now - timedelta(days=settings.no_repeat_days)
    # An edition whose send finished before the window began cannot have reached anyone in it.
    recent = select(Edition.id).where(
        Edition.id != edition.id, Edition.send_started_at.is_not(None),
        or_(Edition.sent_at.is_(None), Edition.sent_at >= cutoff))
    variants = session.exec(select(EditionVariant.edition_id, EditionVariant.key, EditionVariant.stories)
                            .where(EditionVariant.edition_id.in_(recent))).all()
    unlisted: defaultdict[int, set[int]] = defaultdict(set)
    for edition_id, story_id in session.exec(
            select(EditionItem.edition_id, EditionItem.story_id).where(
                EditionItem.edition_id.in_({e for e, _, stories in variants if stories is None}),
                EditionItem.reserve.is_(False), EditionItem.story_id.in_(story_ids))).all():
        unlisted[edition_id].add(story_id)
    relevant = {}
    for edition_id, key, stories in variants:
        if common := (unlisted[edition_id] if stories is None else set(stories) & story_ids):
            relevant[edition_id, key] = common
    if not relevant:
        return {}
    found: defaultdict[int, set[int]] = defaultdict(set)
    rows = session.exec(
        select(Delivery.subscriber_id, Delivery.edition_id, Delivery.variant_key)
        .join(Subscription, Subscription.subscriber_id == Delivery.subscriber_id)
        .where(Subscription.list_id == edition.list_id,
               Subscription.status == SubscriptionStatus.ACTIVE,
               Delivery.edition_id.in_({edition_id for edition_id, _ in relevant}),
               Delivery.status == DeliveryStatus.SENT, Delivery.sent_at >= cutoff)).all()
    for subscriber_id, edition_id, key in rows:
        if stories := relevant.get((edition_id, key)):
            found[subscriber_id] |= stories
    return dict(found)


def add_reserves(session: Session, edition: Edition, wanted: int, *,
                 now: datetime) -> list[EditionItem]:
    """Up to `wanted` spare stories for the edition, the next best of its list's candidates
    (which leave out every story the list has sent, this edition's included)."""
    everything = _items(session, edition.id, reserve=None)
    existing = [i for i in everything if i.reserve]
    if wanted <= len(existing):
        return existing
    digest_list = session.get(DigestList, edition.list_id)
    caps = Caps(limit=wanted - len(existing), per_source=digest_list.per_source_cap,
                per_domain=digest_list.per_domain_cap)
    taken = {i.story_id for i in everything}
    spare = [c for c in candidates(session, digest_list, now) if c.story.id not in taken]
    position = 1 + max((i.position for i in everything), default=-1)
    for offset, ranked in enumerate(pick(spare, now=now, caps=caps)):
        item = new_item(edition, ranked.story, position + offset, score=ranked.score)
        item.reserve = True
        session.add(item)
        existing.append(item)
    session.flush()
    return existing


def _items(session: Session, edition_id: int, *, reserve: bool | None = False) -> list[EditionItem]:
    query = select(EditionItem).where(EditionItem.edition_id == edition_id)
    if reserve is not None:
        query = query.where(EditionItem.reserve.is_(reserve))
    return list(session.exec(query.order_by(EditionItem.position)).all())


def _name(topic_key: str, skip: frozenset[int]) -> str | None:
    """The variant key, or None when it would not fit the key's width (never allowed)."""
    try:
        return variant_key(variant_parts(topic_key)[0], skip)
    except VariantError:
        return None


def _capped(settings: Settings, plain: int, wish: dict[tuple[str, frozenset[int]], list[int]]
            ) -> dict[str, list[int]]:
    """The variants that leave stories out and fit under the cap beside the `plain` topic
    variants (which always exist): those with the most readers first."""
    named = {pair: _name(*pair) for pair in wish}
    ranked = sorted((pair for pair in wish if named[pair]), key=lambda p: (-len(wish[p]), named[p]))
    return {named[pair]: wish[pair] for pair in ranked[:max(settings.max_variants - plain, 0)]}


def _nearest(items: list[EditionItem], reserves: list[EditionItem], topic_key: str,
             allowed: set[str], had: set[int]) -> tuple[str, int]:
    """The allowed variant of the reader's topics that repeats fewest stories for them, and
    how many it repeats (the plain topic variant when none does better)."""
    topics = variant_parts(topic_key)[0]

    def repeats(skip: frozenset[int]) -> int:
        return len(had & {s.story_id for s in variant_stories(items, reserves, topics, skip)})

    best = (topic_key, repeats(frozenset()))
    for other in sorted(allowed):
        other_topics, skip = variant_parts(other)
        if other_topics == topics and skip and (n := repeats(skip)) < best[1]:
            best = (other, n)
    return best
