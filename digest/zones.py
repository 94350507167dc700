"""Time zones: which names are valid, the short list readers choose from, and when a
list's send time falls in a reader's own zone (local-time delivery)."""

from __future__ import annotations

from datetime import datetime, time
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

#: The zones offered at sign-up and in preferences, grouped by region (a <select> of all
#: ~600 IANA names is unusable). Any other valid IANA name is still accepted (CSV, API).
COMMON = {
    "Africa": ["Africa/Cairo", "Africa/Johannesburg", "Africa/Lagos", "Africa/Nairobi"],
    "America": ["America/Anchorage", "America/Argentina/Buenos_Aires", "America/Bogota",
                "America/Chicago", "America/Denver", "America/Halifax", "America/Los_Angeles",
                "America/Mexico_City", "America/New_York", "America/Phoenix", "America/Sao_Paulo",
                "America/Toronto", "America/Vancouver", "Pacific/Honolulu"],
    "Asia": ["Asia/Bangkok", "Asia/Dubai", "Asia/Hong_Kong", "Asia/Jakarta", "Asia/Jerusalem",
             "Asia/Karachi", "Asia/Kolkata", "Asia/Manila", "Asia/Seoul", "Asia/Shanghai",
             "Asia/Singapore", "Asia/Tokyo"],
    "Europe": ["Atlantic/Reykjavik", "Europe/Amsterdam", "Europe/Athens", "Europe/Berlin",
               "Europe/Dublin", "Europe/Helsinki", "Europe/Istanbul", "Europe/Lisbon",
               "Europe/London", "Europe/Madrid", "Europe/Moscow", "Europe/Paris", "Europe/Rome",
               "Europe/Stockholm", "Europe/Warsaw"],
    "Oceania": ["Australia/Adelaide", "Australia/Brisbane", "Australia/Perth", "Australia/Sydney",
                "Pacific/Auckland"],
    "Other": ["UTC"],
}


class BadZone(ValueError):
    """Not an IANA time zone name."""


@lru_cache(maxsize=1)
def known() -> frozenset[str]:
    return frozenset(available_timezones())


def check_zone(value: str) -> str:
    """`value` if it names an IANA time zone, else ValueError saying so."""
    if value not in known():
        raise BadZone(f"{value!r} is not a known time zone (e.g. Europe/London, UTC)")
    return value


def choices(default: str) -> dict[str, list[str]]:
    """COMMON with `default` (the list's zone) in it, for a <select> preselecting it."""
    if any(default in zones for zones in COMMON.values()):
        return COMMON
    return {**COMMON, "Other": sorted({*COMMON["Other"], default})}


def local_send_time(slot: datetime, list_zone: str, send_time: str, zone: str) -> datetime:
    """When a reader in `zone` gets the edition of `slot` (the list's send time on its day,
    in the list's zone): the same clock time on the same date in `zone`, as aware UTC.

    zoneinfo resolves the date's own offset, so a reader whose clocks change that night
    still gets it at the send time; a time skipped by a spring-forward (02:30) is read
    with the offset before the change, i.e. just after the gap."""
    day = slot.astimezone(ZoneInfo(list_zone)).date()
    hour, minute = (int(part) for part in send_time.split(":"))
    return datetime.combine(day, time(hour, minute), ZoneInfo(zone)).astimezone(ZoneInfo("UTC"))
