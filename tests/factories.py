"""Building test data through the same functions the product uses."""

from __future__ import annotations

from sqlmodel import Session, select

from digest.curate.editions import approve, build_draft, todays_slot
from digest.ingest.service import ingest_file
from digest.models import DigestList, Edition, Subscription, SubscriptionStatus
from digest.sample import load_lists_and_subscribers, write_feeds
from digest.settings import Settings


def sample_world(session: Session, settings: Settings) -> dict[str, DigestList]:
    load_lists_and_subscribers(session)
    for path, feed in write_feeds(settings.data_dir / "feeds"):
        ingest_file(session, path, name=feed["title"], section=feed["section"], weight=feed["weight"])
    session.commit()
    return {d.slug: d for d in session.exec(select(DigestList)).all()}


def approved_edition(session: Session, digest_list: DigestList) -> Edition:
    edition = build_draft(session, digest_list, todays_slot(digest_list))
    if edition.status == "draft":
        approve(session, edition.id)
    session.commit()
    return edition


def active_emails(session: Session, digest_list: DigestList) -> set[str]:
    from digest.models import Subscriber
    rows = session.exec(
        select(Subscriber.email).join(Subscription, Subscription.subscriber_id == Subscriber.id)
        .where(Subscription.list_id == digest_list.id,
               Subscription.status == SubscriptionStatus.ACTIVE)).all()
    return set(rows)
