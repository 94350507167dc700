"""What the JSON API answers, as response models: the OpenAPI schema shows every field, and
FastAPI checks each answer against them."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class Problem(BaseModel):
    """A refusal: 401, 403, 404 or 409."""

    detail: str = Field(description="Why, in words meant for a person.")


class EditionSummary(BaseModel):
    id: int
    list_id: int
    slot: datetime
    status: str
    subject: str


class Item(BaseModel):
    id: int
    position: int = Field(description="1 = the top story.")
    story_id: int
    headline: str
    summary: str
    section: str
    pinned: bool
    score: float


class EditionOut(BaseModel):
    id: int
    list_id: int
    slot: datetime
    status: str
    subject: str
    preheader: str
    subject_b: str | None = Field(default=None, description="A second subject tested against the first.")
    note: str | None = Field(description="Why the edition is held back or was skipped, if it is.")
    items: list[Item]
    warnings: list[str] = Field(description="Its mail's complaint rate is over 0.1% or its hard-bounce "
                                            "rate over 2% (figures: the progress's deliverability).")


class BuiltEdition(EditionOut):
    created: bool = Field(description="False when the draft for this slot existed already.")


class StoryClicksOut(BaseModel):
    story_id: int
    headline: str
    clicks: int


class Deliverability(BaseModel):
    sent: int = Field(description="Accepted by the relay.")
    refused: int = Field(description="Refused by the relay at send time (address gone).")
    hard_bounces: int = Field(description="Hard bounces that came back later.")
    soft_bounces: int
    complaints: int
    unsubscribes: int = Field(description="By mail (List-Unsubscribe mailto:, provider events).")
    clicks: int = Field(description="One per reader and story; scanners not counted.")
    clickers: int = Field(description="Readers who clicked anything.")
    hard_bounce_rate: float = Field(description="(refused + hard bounces) / (sent + refused).")
    complaint_rate: float = Field(description="Complaints / sent.")
    click_rate: float = Field(description="Clickers / sent.")
    stories: list[StoryClicksOut] = Field(description="Clicked stories, most clicked first.")
    warnings: list[str] = Field(description="Complaint rate over 0.1% or hard-bounce rate over 2%.")


class Progress(BaseModel):
    edition_id: int
    status: str
    counts: dict[str, int] = Field(description="Deliveries by ledger status.")
    total: int
    left: int
    sent: int
    deferred: int
    bounced: int
    failed: int
    rate: float = Field(description="Messages a second over the last minutes.")
    problem: str | None = Field(description="Why the send is not moving, if it is not.")
    waiting: int = Field(description="Deliveries of a local-time send waiting for a later wave "
                                     "(counted in `left` too).")
    next_wave: datetime | None = Field(description="When the next of those waves goes out (UTC).")
    eta_seconds: int | None
    percent: int
    repeats_over_cap: int = Field(0, description="Readers who got a story again from another list "
                                  "because DIGEST_MAX_VARIANTS was reached.")
    subject_test: dict | None = Field(None, description="With a second subject: subject_a, subject_b, "
                                      "a and b (delivered, clicked, rate), winner, decides_at.")
    deliverability: Deliverability


class SourceOut(BaseModel):
    id: int
    name: str
    url: str
    section: str
    weight: float
    every_minutes: int
    state: str = Field(description="active, paused or failing")
    stories: int
    last_success_at: datetime | None
    last_error: str | None
    consecutive_failures: int
    next_poll_at: datetime | None


class RemovedSource(BaseModel):
    removed_stories: int


class SubscriberHit(BaseModel):
    id: int
    email: str
    name: str | None
    timezone: str | None = Field(description="IANA name; null: each list's own zone.")


class ImportRow(BaseModel):
    line: int
    email: str
    outcome: str = Field(description="added, updated or skipped")
    reason: str


class ImportReport(BaseModel):
    counts: dict[str, int] = Field(description="Rows by outcome.")
    rows: list[ImportRow]


class Schedule(BaseModel):
    send_time: str = Field(description="HH:MM in the list's time zone.")
    timezone: str
    next_send_at: datetime = Field(description="The next slot, in UTC.")
    auto_approve: bool
    deliver_at: str = Field(description="list: everyone at the send time in the list's zone; "
                                        "local: in each reader's own zone, in waves.")
    first_wave_at: datetime = Field(description="When the next edition starts going out (UTC): the slot, "
                                                "or for local delivery the earliest reader's send time.")


class ListOut(BaseModel):
    id: int
    slug: str
    name: str
    description: str
    sections: list[str]
    max_stories: int
    min_stories: int
    freshness_hours: int
    per_source_cap: int
    per_domain_cap: int
    track_clicks: bool = Field(description="Story links go through the click redirect "
                                           "(when DIGEST_TRACK_CLICKS is on too).")
    subscribers: int = Field(description="Confirmed subscribers.")
    schedule: Schedule


class IngestSource(BaseModel):
    source: str
    source_id: int | None
    added: int
    error: str | None
    summary: str


class IngestStarted(BaseModel):
    queued: bool = Field(description="True: queued for the workers (a broker is set); the sources "
                                     "were not fetched yet.")
    sources: list[IngestSource] = Field(description="Per source fetched, when run here.")


class TokenOut(BaseModel):
    id: int
    name: str
    owner: str
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None
    revoked_at: datetime | None
    state: str = Field(description="active, expired or revoked")
