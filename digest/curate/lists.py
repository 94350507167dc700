"""Lists (newsletters) and their curation rules, validated before anything is written."""

from __future__ import annotations

import re
from typing import Literal
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from sqlmodel import Session, select

from digest.models import DigestList
from digest.zones import check_zone

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
SECTION = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
SEND_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class ListError(Exception):
    """A list that cannot be created or changed; the message names the field and why."""


class ListRules(BaseModel):
    """What a list may be set to; the same defaults as the table."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=2000)
    sections: list[str] = Field(default_factory=list)  # empty: every section
    max_stories: int = Field(default=12, ge=1, le=50)
    min_stories: int = Field(default=3, ge=1, le=50)
    freshness_hours: int = Field(default=48, ge=1, le=24 * 31)
    per_source_cap: int = Field(default=4, ge=1, le=50)
    per_domain_cap: int = Field(default=4, ge=1, le=50)
    send_time: str = "07:00"
    timezone: str = "UTC"
    auto_approve: bool = False
    # "list": everyone at the send time in the list's zone; "local": in each reader's own.
    deliver_at: Literal["list", "local"] = "list"
    track_clicks: bool = True

    @field_validator("name")
    @classmethod
    def _one_line(cls, value: str) -> str:
        value = " ".join(value.split())
        if not value:
            raise ValueError("cannot be empty")
        return value

    @field_validator("sections")
    @classmethod
    def _sections(cls, value: list[str]) -> list[str]:
        cleaned = sorted({s.strip().lower() for s in value if s.strip()})
        for section in cleaned:
            if not SECTION.match(section):
                raise ValueError(f"{section!r} is not a section name (a-z, 0-9 and -)")
        return cleaned

    @field_validator("send_time")
    @classmethod
    def _send_time(cls, value: str) -> str:
        if not SEND_TIME.match(value):
            raise ValueError(f"{value!r} is not a time as HH:MM (24-hour, e.g. 07:30)")
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        return check_zone(value)

    @model_validator(mode="after")
    def _min_within_max(self) -> ListRules:
        if self.min_stories > self.max_stories:
            raise ValueError(f"min_stories ({self.min_stories}) is above max_stories "
                             f"({self.max_stories})")
        return self


def create_list(session: Session, slug: str, **rules) -> DigestList:
    if not SLUG.match(slug):
        raise ListError(f"slug {slug!r}: use 1-64 characters a-z, 0-9 and -, starting with "
                        f"a letter or digit")
    if get_list(session, slug) is not None:
        raise ListError(f"a list {slug!r} already exists")
    digest_list = DigestList(slug=slug, **_validated(slug, rules).model_dump())
    session.add(digest_list)
    session.flush()
    return digest_list


def update_list(session: Session, slug: str, **changes) -> DigestList:
    """Change some rules of a list; the result is validated as a whole before anything changes."""
    digest_list = get_list(session, slug)
    if digest_list is None:
        raise ListError(f"no list {slug!r}")
    current = digest_list.model_dump(include=set(ListRules.model_fields))
    for field, value in _validated(slug, {**current, **changes}).model_dump().items():
        setattr(digest_list, field, value)
    session.flush()
    return digest_list


def get_list(session: Session, slug: str) -> DigestList | None:
    return session.exec(select(DigestList).where(DigestList.slug == slug)).one_or_none()


def all_lists(session: Session) -> list[DigestList]:
    return list(session.exec(select(DigestList).order_by(DigestList.slug)).all())


def _validated(slug: str, values: dict) -> ListRules:
    try:
        return ListRules(**values)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or 'rules'}: "
            f"{error['msg'].removeprefix('Value error, ').replace('Field required', 'required')}"
            for error in exc.errors())
        raise ListError(f"list {slug!r}: {problems}") from None
