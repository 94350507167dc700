"""A small world for send tests: stories per section from one source each, lists over
them, readers of several lists, and what their mails say."""

import re
from datetime import timedelta
from email import message_from_bytes, policy

from digest.curate.editions import approve, build_draft, todays_slot
from digest.curate.editor import edit_envelope
from digest.mail.backends.memory import MemoryBackend
from digest.models import DigestList, Source, Story, Subscriber, Subscription, SubscriptionStatus, utcnow
from digest.send.service import send_inline


def world(session, sections: dict[str, int]):
    """Stories per section, the first of each the freshest, from one source per section."""
    now = utcnow()
    stories = {}
    for section, n in sections.items():
        source = Source(name=f"{section} wire", url=f"https://{section}.example.org/feed",
                        section=section)
        session.add(source)
        session.flush()
        for i in range(1, n + 1):
            story = Story(source_id=source.id, canonical_url=f"https://{section}.example.org/{i}",
                          url=f"https://{section}.example.org/{i}", title=f"{section.title()} story {i}",
                          text=f"The {section} story number {i} happened today.", section=section,
                          published_at=now - timedelta(minutes=10 * i))
            session.add(story)
            stories[f"{section}{i}"] = story
    session.flush()
    return stories


def make_list(session, slug, sections, max_stories):
    digest_list = DigestList(slug=slug, name=slug.title(), sections=sections, max_stories=max_stories,
                             min_stories=1, per_source_cap=10, per_domain_cap=10)
    session.add(digest_list)
    session.flush()
    return digest_list


def readers(session, lists_by_reader: dict[str, list[DigestList]]):
    for email, lists in lists_by_reader.items():
        subscriber = Subscriber(email=email)
        session.add(subscriber)
        session.flush()
        for digest_list in lists:
            session.add(Subscription(subscriber_id=subscriber.id, list_id=digest_list.id,
                                     status=SubscriptionStatus.ACTIVE))
    session.commit()


def approved(session, digest_list, **envelope):
    edition = build_draft(session, digest_list, todays_slot(digest_list))
    if envelope:
        edit_envelope(session, edition.id, **envelope)
    approve(session, edition.id)
    session.commit()
    return edition


def send(session, settings, digest_list, **envelope):
    edition = approved(session, digest_list, **envelope)
    backend = MemoryBackend()
    send_inline(session, settings, backend, edition.id)
    return edition, backend


def headlines(backend, email):
    message = next(m for m in backend.outbox if m.recipient == email)
    text = message_from_bytes(message.data, policy=policy.default).get_body(("plain",)).get_content()
    return re.findall(r"^\d+\. (.+?)\r?$", text, re.MULTILINE)


def subject(backend, email):
    message = next(m for m in backend.outbox if m.recipient == email)
    return message_from_bytes(message.data, policy=policy.default)["Subject"]
