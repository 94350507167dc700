"""The domain tables.

Statuses are stored as short strings (not database enums) so that adding a state is a
code change, not a schema migration. Every timestamp is timezone-aware UTC, also on
SQLite, through :class:`UTCDateTime`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import JSON, DateTime, Index, Text, TypeDecorator, UniqueConstraint
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Aware UTC in, aware UTC out, whatever the backend keeps."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: use an aware UTC datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _created() -> datetime:
    return Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


def _when() -> datetime | None:
    return Field(default=None, sa_type=UTCDateTime, nullable=True)


class Source(SQLModel, table=True):
    """A feed (or a local file, or the editors' hand-added stories) that yields stories."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    url: str = Field(sa_type=Text, unique=True)
    section: str = Field(default="news", max_length=64)
    weight: float = 1.0
    poll_interval_minutes: int = 60
    active: bool = True
    etag: str | None = None
    last_modified: str | None = None
    last_success_at: datetime | None = _when()
    last_error: str | None = Field(default=None, sa_type=Text)
    last_error_at: datetime | None = _when()
    consecutive_failures: int = 0
    next_poll_at: datetime | None = _when()
    created_at: datetime = _created()


class Story(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    source_id: int = Field(foreign_key="source.id", index=True)
    # The canonical URL identifies a story: one row however many feeds carry it.
    canonical_url: str = Field(sa_type=Text, unique=True)
    url: str = Field(sa_type=Text)
    guid: str | None = Field(default=None, sa_type=Text)
    title: str = Field(sa_type=Text)
    # Sanitised HTML from the feed, and plain text for the summariser.
    summary_html: str = Field(default="", sa_type=Text)
    text: str = Field(default="", sa_type=Text)
    author: str | None = None
    image_url: str | None = Field(default=None, sa_type=Text)
    categories: list[str] = Field(default_factory=list, sa_type=JSON)
    section: str = Field(default="news", max_length=64)
    # "de", "pt"...: declared by the feed, else detected; None when unsure (read as English).
    language: str | None = Field(default=None, max_length=16)
    # Indexed: ranking and near-duplicate detection both look at a window of publication times.
    published_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    fetched_at: datetime = _created()
    # Editor signals that outlive one edition: a boost added to the score, a block for good.
    boost: float = 0.0
    blocked: bool = False


class StorySource(SQLModel, table=True):
    """Every sighting of a story: the feed and URL it came from. A story carried by several
    independent sources is bigger news, and its duplicates stay traceable."""

    __table_args__ = (UniqueConstraint("story_id", "source_id"),)

    id: int | None = Field(default=None, primary_key=True)
    story_id: int = Field(foreign_key="story.id", ondelete="CASCADE", index=True)
    source_id: int = Field(foreign_key="source.id", ondelete="CASCADE", index=True)
    url: str = Field(sa_type=Text)
    guid: str | None = Field(default=None, sa_type=Text)
    seen_at: datetime = _created()


class FetchLog(SQLModel, table=True):
    """One fetch of a source: its outcome ("ok", "not_modified", "error") and how many new
    stories it brought. Kept for FETCH_LOG_DAYS (digest.ingest.fetch_log) for the sources
    page's picture of feed health."""

    id: int | None = Field(default=None, primary_key=True)
    source_id: int = Field(foreign_key="source.id", ondelete="CASCADE", index=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False, index=True)
    outcome: str = Field(max_length=16)
    new_stories: int = 0


class DigestList(SQLModel, table=True):
    """A newsletter with its own curation rules and schedule."""

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=64, unique=True)
    name: str = Field(max_length=200)
    description: str = ""
    sections: list[str] = Field(default_factory=list, sa_type=JSON)
    max_stories: int = 12
    min_stories: int = 3
    freshness_hours: int = 48
    per_source_cap: int = 4
    # One site often syndicates through several feeds: cap stories per web domain too.
    per_domain_cap: int = 4
    send_time: str = "07:00"
    timezone: str = "UTC"
    auto_approve: bool = False
    # "list": every reader at the send time in the list's zone; "local": at the send time
    # in each reader's own zone, released in waves (docs/sending.md).
    deliver_at: str = Field(default="list", max_length=8, sa_column_kwargs={"server_default": "list"})
    # Story links through the click redirect (with DIGEST_TRACK_CLICKS on).
    track_clicks: bool = True
    created_at: datetime = _created()


class Subscriber(SQLModel, table=True):
    # SQLite would otherwise give the largest id to the next row once that one is deleted: a
    # newcomer would get an erased subscriber's id. (PostgreSQL's sequence never reuses one.)
    __table_args__ = {"sqlite_autoincrement": True}

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=320, unique=True)
    name: str | None = Field(default=None, max_length=200)
    # IANA name; None: the zone of whichever list is sending (local-time delivery).
    timezone: str | None = Field(default=None, max_length=64)
    created_at: datetime = _created()


class SubscriptionStatus(StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    UNSUBSCRIBED = "unsubscribed"


class Subscription(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("subscriber_id", "list_id"),)

    id: int | None = Field(default=None, primary_key=True)
    subscriber_id: int = Field(foreign_key="subscriber.id", ondelete="CASCADE", index=True)
    list_id: int = Field(foreign_key="digestlist.id", ondelete="CASCADE", index=True)
    status: str = Field(default=SubscriptionStatus.PENDING, max_length=16)
    topics: list[str] = Field(default_factory=list, sa_type=JSON)
    created_at: datetime = _created()
    confirmed_at: datetime | None = _when()
    unsubscribed_at: datetime | None = _when()
    # Confirmation mails sent in the current 24-hour window, and when that window began:
    # signing up again while pending re-sends only a few a day.
    confirmations_sent: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    confirmation_window_at: datetime | None = _when()


class EditionStatus(StrEnum):
    DRAFT = "draft"
    APPROVED = "approved"
    SENDING = "sending"
    PAUSED = "paused"
    SENT = "sent"
    CANCELLED = "cancelled"
    SKIPPED = "skipped"


class Edition(SQLModel, table=True):
    # One edition per list and schedule slot: building twice finds the first one.
    __table_args__ = (UniqueConstraint("list_id", "slot"),)

    id: int | None = Field(default=None, primary_key=True)
    list_id: int = Field(foreign_key="digestlist.id", index=True)
    slot: datetime = Field(sa_type=UTCDateTime)
    status: str = Field(default=EditionStatus.DRAFT, max_length=16, index=True)
    subject: str = Field(default="", max_length=300)
    preheader: str = Field(default="", max_length=300)
    # Written by an editor (kept as written in every variant) rather than derived from the
    # headlines (each variant then gets its own, naming only stories it contains).
    subject_written: bool = Field(default=False, sa_column_kwargs={"server_default": "0"})
    preheader_written: bool = Field(default=False, sa_column_kwargs={"server_default": "0"})
    # A second subject to test against the first (digest.send.subject_test), the subject
    # the rest of the readers got once the test window closed ("a"/"b"), and how many
    # readers got a story again because DIGEST_MAX_VARIANTS was reached.
    subject_b: str | None = Field(default=None, max_length=300)
    subject_winner: str | None = Field(default=None, max_length=1)
    repeats_over_cap: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    note: str | None = Field(default=None, sa_type=Text)
    created_at: datetime = _created()
    approved_at: datetime | None = _when()
    send_started_at: datetime | None = _when()
    sent_at: datetime | None = _when()
    # Why the send is not moving, for ops ("relay unreachable since 14:05 UTC: ..."), and
    # since when; cleared by the next message the relay accepts.
    send_problem: str | None = Field(default=None, sa_type=Text)
    send_problem_since: datetime | None = _when()


class EditionItem(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("edition_id", "story_id"),)

    id: int | None = Field(default=None, primary_key=True)
    edition_id: int = Field(foreign_key="edition.id", ondelete="CASCADE", index=True)
    story_id: int = Field(foreign_key="story.id")
    position: int
    headline: str = Field(sa_type=Text)
    summary: str = Field(sa_type=Text)
    section: str = Field(default="news", max_length=64)
    pinned: bool = False
    score: float = 0.0
    # A spare story, added at send start, that takes the place of one a reader of several
    # lists already had (digest.send.repeats); never in the plain edition.
    reserve: bool = Field(default=False, sa_column_kwargs={"server_default": "0"})


class EditionVariant(SQLModel, table=True):
    """An edition rendered and inlined once for a group of subscribers.

    The stored HTML and text carry sentinel tokens where per-subscriber values go, so
    every worker sends identical bytes and nobody renders or inlines twice.
    """

    __table_args__ = (UniqueConstraint("edition_id", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    edition_id: int = Field(foreign_key="edition.id", ondelete="CASCADE", index=True)
    key: str = Field(default="all", max_length=200)
    subject: str = Field(max_length=300)
    html: str = Field(sa_type=Text)
    text: str = Field(sa_type=Text)
    # The story ids this rendering contains: what reached its readers (no story twice).
    stories: list[int] | None = Field(default=None, sa_type=JSON)
    created_at: datetime = _created()


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    CLAIMED = "claimed"    # taken by a batch, not yet attempted: safe to hand to another
    SENDING = "sending"    # in flight: if its batch dies, the outcome is unknown
    SENT = "sent"
    DEFERRED = "deferred"
    BOUNCED = "bounced"    # the mailbox does not exist: the address is suppressed
    FAILED = "failed"      # this message was refused (policy, size...): the address is kept
    SKIPPED = "skipped"
    EXPIRED = "expired"
    UNKNOWN = "unknown"


class Delivery(SQLModel, table=True):
    """The ledger: one row per (edition, subscriber), and the truth about what was sent."""

    __table_args__ = (
        UniqueConstraint("edition_id", "subscriber_id"),
        Index("ix_delivery_edition_status", "edition_id", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    edition_id: int = Field(foreign_key="edition.id", ondelete="CASCADE")
    subscriber_id: int = Field(foreign_key="subscriber.id", ondelete="CASCADE", index=True)
    variant_key: str = Field(default="all", max_length=200)
    # The subject test: "a" or "b" for a test group, None for the rest (who get the winner).
    subject_variant: str | None = Field(default=None, max_length=1)
    # Not due before this (the rest of a subject test waits for the window to close).
    subject_hold_until: datetime | None = _when()
    status: str = Field(default=DeliveryStatus.PENDING, max_length=16)
    attempts: int = 0
    # Which batch holds the claim: a batch only sends rows still carrying its own token.
    claim_token: str | None = Field(default=None, max_length=32)
    lease_until: datetime | None = _when()
    next_attempt_at: datetime | None = _when()
    # Not to be sent before this (local-time delivery: the send time in the reader's zone);
    # None: due as soon as the send starts.
    not_before: datetime | None = _when()
    sent_at: datetime | None = _when()
    # When the row took its current outcome (sent, deferred, bounced, failed): the send
    # page's picture of the send over time.
    outcome_at: datetime | None = _when()
    last_error: str | None = Field(default=None, sa_type=Text)
    created_at: datetime = _created()


class Click(SQLModel, table=True):
    """A reader following a story's link from an edition: engagement for future ranking.
    One row per (subscriber, edition, story) however often the link is followed."""

    __table_args__ = (UniqueConstraint("subscriber_id", "edition_id", "story_id"),)

    id: int | None = Field(default=None, primary_key=True)
    edition_id: int = Field(foreign_key="edition.id", ondelete="CASCADE", index=True)
    story_id: int = Field(foreign_key="story.id", ondelete="CASCADE", index=True)
    subscriber_id: int | None = Field(default=None, foreign_key="subscriber.id", ondelete="SET NULL")
    # False: part of a burst over the edition's links that a scanner makes (digest.clicks.record);
    # kept so the rest of the burst is recognised, counted nowhere.
    counted: bool = True
    created_at: datetime = _created()


class Suppression(SQLModel, table=True):
    """Addresses never to mail again. Only a hash is kept, so a deleted subscriber stays deleted."""

    id: int | None = Field(default=None, primary_key=True)
    email_hash: str = Field(max_length=64, unique=True)
    reason: str = Field(max_length=32)
    created_at: datetime = _created()


class SuppressionAction(StrEnum):
    SUPPRESS = "suppress"
    LIFT = "lift"


class SuppressionEvent(SQLModel, table=True):
    """The audit of the suppression list: who suppressed or lifted an address, why and when.

    Like :class:`Suppression` it keeps only the address's hash."""

    id: int | None = Field(default=None, primary_key=True)
    email_hash: str = Field(max_length=64, index=True)
    action: str = Field(max_length=16)
    # The suppression reason set (suppress) or taken away (lift).
    reason: str = Field(max_length=32)
    # "system" for the service's own decisions (bounces, unsubscribes), "subscriber" for the
    # person through a signed link, else whoever ran the command.
    actor: str = Field(max_length=100)
    note: str | None = Field(default=None, sa_type=Text)
    created_at: datetime = _created()


class Feedback(SQLModel, table=True):
    """What came back about a mail after it left: a bounce, a complaint or an unsubscribe
    by mail (kinds as in :class:`digest.bounces.findings.Kind`, "ignore" never stored).

    Like :class:`Suppression` it keeps the address's hash; the edition and subscriber are
    set when the report could be attributed. ``report_key`` (a provider's event id or the
    report mail's Message-ID) makes a report seen twice count once."""

    __table_args__ = (
        UniqueConstraint("report_key", "email_hash"),
        Index("ix_feedback_edition_kind", "edition_id", "kind"),
        Index("ix_feedback_hash_kind_created", "email_hash", "kind", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    edition_id: int | None = Field(default=None, foreign_key="edition.id", ondelete="SET NULL")
    subscriber_id: int | None = Field(default=None, foreign_key="subscriber.id", ondelete="SET NULL")
    email_hash: str = Field(max_length=64)
    kind: str = Field(max_length=16)
    status: str | None = Field(default=None, max_length=16)
    reason: str | None = Field(default=None, sa_type=Text)
    # The door it came through: "mail" (piped or a file), "imap", "ses", "sendgrid",
    # "postmark", "mailgun".
    source: str = Field(max_length=16)
    report_key: str | None = Field(default=None, max_length=200)
    created_at: datetime = _created()


class StaffUser(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=320, unique=True)
    password_hash: str = Field(sa_type=Text)
    role: str = Field(max_length=16)
    active: bool = True
    created_at: datetime = _created()


class StaffSession(SQLModel, table=True):
    """A signed-in browser. Its cookie holds a random token and only the token's SHA-256 is
    stored, so the table cannot be replayed; signing out deletes the row, a new password
    deletes every row of the account."""

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="staffuser.id", ondelete="CASCADE", index=True)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = _created()
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class ApiToken(SQLModel, table=True):
    """A staff member's token for scripting the JSON API. Only its SHA-256 is stored."""

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="staffuser.id", ondelete="CASCADE", index=True)
    name: str = Field(max_length=100)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = _created()
    last_used_at: datetime | None = _when()
    expires_at: datetime | None = _when()
    # Kept rather than deleted, so `users tokens` still shows who had it and when it ended.
    revoked_at: datetime | None = _when()
