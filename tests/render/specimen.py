"""A fixed edition for golden files, browser screenshots and the benchmark.

Built straight into the tables (not through the sample feeds, whose dates are relative to
now), so that rendering it gives the same bytes on every run.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import Session

from digest.models import (
    DigestList, Edition, EditionItem, EditionStatus, Source, Story, Subscriber,
)

SLOT = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)  # 07:00 in Amsterdam
IMAGE_HOST = "https://images.example.org"

# (section, source, headline, summary, image file or None)
STORIES = [
    ("world", "Harbour Herald", "Delta flood barrier opens a year early after a mild winter",
     "The three-kilometre barrier across the river delta opened on Thursday, a year ahead of "
     "schedule. Engineers credited a mild winter that let crews pour concrete through January. "
     "It is designed to protect 40,000 homes from storm surges.", "barrier.jpg"),
    ("business", "The Ledger", "Central bank holds rates and signals a cut in spring",
     "The central bank kept its main rate at 3.75% for the fourth meeting in a row. Its governor "
     "said inflation was falling faster than expected & that a cut was \"likely\".", None),
    ("tech", "Circuit Weekly", "New chip plant will recycle nearly all of its water",
     "The plant's operators say a closed loop of filters and evaporators will reuse 98 percent "
     "of the water used to rinse wafers, a first for a factory of its size.", "chips.jpg"),
    ("science", "Field Notes", "Mountain telescope sends back its first images",
     "The new four-metre telescope on the southern ridge sent back its first images, showing a "
     "spiral galaxy in sharp detail. Astronomers will spend six months testing its instruments.",
     None),
    ("world", "Harbour Herald", "Island nations sign a fisheries pact to protect tuna stocks",
     "Eight island nations signed a pact limiting industrial tuna fishing in their shared "
     "waters, capping the fishing days sold to foreign fleets.", None),
    ("business", "The Ledger", "Regulator blocks the merger of two grocery chains",
     "The competition regulator found that prices would rise in 140 towns where the two chains "
     "are the only large stores. Both companies are studying the decision.", "grocery.jpg"),
    ("tech", "Circuit Weekly", "Q&A: why your inbox looks different in dark mode",
     "Mail apps invert colours in three different ways, which is why the same newsletter can "
     "look crisp in one inbox and muddy in another.", None),
    ("science", "Field Notes", "Bees learn to count to four, a study suggests",
     "Researchers trained bees to pick the card with four shapes among cards with two to six, "
     "and the bees kept choosing it after the shapes were changed.", None),
    ("world", "Harbour Herald", "Mountain pass reopens after rockfall clean-up",
     "Geologists installed sensors along the slope that will close the road automatically if "
     "the rock starts to move again.", "http-only.jpg"),
    ("business", "The Ledger", "Regional airline orders twenty small electric planes",
     "The nine-seat aircraft will fly routes shorter than 250 kilometres from 2029, if the "
     "design is certified in time.", None),
    ("tech", "Circuit Weekly", "Open-source maintainers fund passes its first million",
     "The fund pays maintainers of widely used libraries a monthly stipend; 120 projects have "
     "applied so far.", None),
    ("science", "Field Notes", "Ocean buoys record the warmest February on record",
     "A network of 4,000 buoys measured surface temperatures 0.3 degrees above the previous "
     "record, set two years ago.", None),
]

# Readers whose names test personalisation: quotes, markup, ampersands, non-ASCII.
READERS = [
    (101, "ada@example.org", "Ada Lovelace"),
    (102, "obrien@example.org", "Seán O'Brien"),
    (103, "quote@example.org", 'Zoë "Z" <b>Bold</b> & Co'),
    (104, "inject@example.org", "{{ 7*7 }} {% if 1 %}x{% endif %} __DIGEST_UNSUBSCRIBE_URL__"),
    (105, "cjk@example.org", "李小龙 🦊\u00a0\u0007 tab\tend"),
    (106, "none@example.org", None),
]


def readers() -> list[Subscriber]:
    return [Subscriber(id=i, email=email, name=name) for i, email, name in READERS]


def specimen_edition(session: Session, stories: list[tuple] = STORIES, *,
                     slug: str = "specimen", timezone: str = "Europe/Amsterdam") -> Edition:
    """An approved edition of `stories` on the fixed slot, in a new list `slug`, committed."""
    digest_list = DigestList(slug=slug, name="The Morning Brief", timezone=timezone,
                             sections=sorted({s[0] for s in stories}))
    session.add(digest_list)
    session.flush()
    sources: dict[str, Source] = {}
    edition = Edition(list_id=digest_list.id, slot=SLOT, status=EditionStatus.APPROVED,
                      subject=f"{stories[0][2]} + {len(stories) - 1} more",
                      preheader=" \u00b7 ".join(s[2] for s in stories[1:3]), approved_at=SLOT)
    session.add(edition)
    session.flush()
    for position, (section, source_name, headline, summary, image) in enumerate(stories):
        if source_name not in sources:
            sources[source_name] = Source(name=source_name, section=section,
                                          url=f"https://feeds.example.org/{slug}/{len(sources)}.rss")
            session.add(sources[source_name])
            session.flush()
        url = f"https://news.example.org/{slug}/{section}/{position + 1}"
        image_url = None if image is None else (
            f"{IMAGE_HOST.replace('https', 'http')}/{image}" if image.startswith("http-")
            else f"{IMAGE_HOST}/{image}")
        story = Story(source_id=sources[source_name].id, canonical_url=url, url=url, title=headline,
                      text=summary, section=section, image_url=image_url,
                      published_at=SLOT - timedelta(hours=2 + 3 * position, minutes=7 * position))
        session.add(story)
        session.flush()
        session.add(EditionItem(edition_id=edition.id, story_id=story.id, position=position,
                                headline=headline, summary=summary, section=section))
    session.commit()
    return edition
