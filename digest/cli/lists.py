"""`digest lists`: newsletters and their curation rules."""

from collections.abc import Callable

import typer

from digest.cli.common import app, fail, say
from digest.cli.editions import service_session
from digest.curate.lists import ListRules, all_lists, create_list, get_list, update_list
from digest.models import DigestList
from digest.schedule import next_slot
from digest.send import waves

lists_app = typer.Typer(help="Lists (newsletters) and their curation rules.", no_args_is_help=True)
app.add_typer(lists_app, name="lists")

# Every rule is optional on the command line: `add` falls back to the defaults,
# `update` changes only what is given.
NAME = typer.Option(None, help="The list's name as readers see it.")
DESCRIPTION = typer.Option(None, help="One line about the list.")
SECTIONS = typer.Option(None, help="Comma-separated sections to draw from; '' for every section.")
MAX_STORIES = typer.Option(None, help="At most this many stories per edition (default 12).")
MIN_STORIES = typer.Option(None, help="Fewer qualifying stories skip the edition (default 3).")
FRESHNESS = typer.Option(None, help="Only stories published within this many hours (default 48).")
PER_SOURCE = typer.Option(None, help="At most this many stories from one source (default 4).")
PER_DOMAIN = typer.Option(None, help="At most this many stories from one web site (default 4).")
SEND_TIME = typer.Option(None, help="Local send time, HH:MM (default 07:00).")
TIMEZONE = typer.Option(None, help="IANA time zone of the send time, e.g. Europe/London.")
AUTO_APPROVE = typer.Option(None, "--auto-approve/--no-auto-approve",
                            help="Approve drafts without an editor (default: no).")
DELIVER_AT = typer.Option(None, help="'list': everyone at the send time in the list's zone "
                                     "(default); 'local': at the send time in each reader's own zone.")
TRACK_CLICKS = typer.Option(None, "--track-clicks/--no-track-clicks",
                            help="Story links count clicks through a redirect (default: yes; "
                                 "DIGEST_TRACK_CLICKS=false turns it off for every list).")


def _given(options: dict) -> dict:
    """The rules given on the command line (from a command's locals)."""
    rules = {name: value for name, value in options.items()
             if value is not None and name in ListRules.model_fields}
    if "sections" in rules:
        rules["sections"] = [s for s in rules["sections"].split(",") if s.strip()]
    return rules


def _rules_command(change: Callable[..., DigestList]) -> Callable[..., None]:
    """`add` and `update` take the same options; `change` does the work."""

    def command(slug: str = typer.Argument(..., metavar="SLUG",
                                           help="The list's short name (a-z, 0-9, -)."),
                name: str | None = NAME, description: str | None = DESCRIPTION,
                sections: str | None = SECTIONS, max_stories: int | None = MAX_STORIES,
                min_stories: int | None = MIN_STORIES, freshness_hours: int | None = FRESHNESS,
                per_source_cap: int | None = PER_SOURCE, per_domain_cap: int | None = PER_DOMAIN,
                send_time: str | None = SEND_TIME, timezone: str | None = TIMEZONE,
                auto_approve: bool | None = AUTO_APPROVE, deliver_at: str | None = DELIVER_AT,
                track_clicks: bool | None = TRACK_CLICKS) -> None:
        rules = _given(locals())
        with service_session() as session:
            text = describe(change(session, slug, **rules))
        say(text)

    return command


lists_app.command("add", help="Create a list (--name is required).")(_rules_command(create_list))
lists_app.command("update", help="Change some of a list's rules; the others stay.")(
    _rules_command(update_list))


@lists_app.command("list")
def lists_list() -> None:
    """Every list with its rules."""
    with service_session() as session:
        text = "\n".join(describe(digest_list) for digest_list in all_lists(session))
    say(text or "no lists")


@lists_app.command("show")
def lists_show(slug: str = typer.Argument(..., metavar="SLUG")) -> None:
    """One list's rules and its next edition: when it is due and when sending starts."""
    with service_session() as session:
        digest_list = get_list(session, slug)
        if digest_list is None:
            fail(f"no list {slug!r}")
        text = f"{describe(digest_list)}\n  {next_edition(session, digest_list)}"
    say(text)


def next_edition(session, digest_list: DigestList) -> str:
    """"next edition 2026-11-27 07:00 UTC, first wave at 2026-11-26 18:00 UTC"."""
    slot = next_slot(session, digest_list)
    line = f"next edition {slot.at:%Y-%m-%d %H:%M} UTC"
    if waves.is_local(digest_list):
        line += f", first wave at {slot.first_wave:%Y-%m-%d %H:%M} UTC (the earliest reader's zone)"
    return line


def describe(digest_list: DigestList) -> str:
    sections = ", ".join(digest_list.sections) or "all sections"
    approval = "auto-approve" if digest_list.auto_approve else "editor approves"
    where = " in each reader's zone" if waves.is_local(digest_list) else ""
    clicks = "clicks tracked" if digest_list.track_clicks else "clicks not tracked"
    return (f"{digest_list.slug}: {digest_list.name}\n"
            f"  {digest_list.send_time} {digest_list.timezone}{where}, {approval}, {clicks}; {sections}\n"
            f"  {digest_list.min_stories}-{digest_list.max_stories} stories from the last "
            f"{digest_list.freshness_hours} h, at most {digest_list.per_source_cap} per source "
            f"and {digest_list.per_domain_cap} per site")
