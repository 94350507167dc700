"""`make demo`: one full cycle on the embedded defaults, narrated."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pydantic_settings import DotEnvSettingsSource, EnvSettingsSource
from sqlmodel import func, select

from digest import migrate
from digest.curate.editions import approve, build_draft, items, todays_slot
from digest.db import session_scope
from digest.ingest.service import ingest_file
from digest.mail.backends import get_backend
from digest.models import DigestList, EditionStatus, Story
from digest.sample import load_lists_and_subscribers, write_feeds
from digest.render.digest import preview
from digest.send import ledger
from digest.send.service import format_outcomes, send_inline
from digest.settings import Settings
from digest.subscribers.links import preview_values


class DemoRefused(Exception):
    pass


def demo_settings() -> tuple[Settings, str | None]:
    """The demo is a trial on the embedded defaults: it runs in development (the placeholder
    secret and example addresses accepted) unless DIGEST_ENVIRONMENT (the environment or
    .env) says production, where it refuses rather than add sample lists and subscribers
    to the deployment's database and mail them. Returns the settings and a note to print."""
    configured = {**DotEnvSettingsSource(Settings)(), **EnvSettingsSource(Settings)()}.get("environment")
    if configured == "production":
        raise DemoRefused("DIGEST_ENVIRONMENT is production: the demo adds sample lists and subscribers "
                          "to DIGEST_DATABASE_URL and mails them, so it runs only in development")
    note = None if configured else "note: DIGEST_ENVIRONMENT is not set: the demo runs as development"
    return Settings(environment="development"), note


def run_demo(settings: Settings, say: Callable[[str], None]) -> None:
    if settings.broker_url:
        say("note: the demo runs in-process; DIGEST_BROKER_URL is ignored here")
    say(f"database: {settings.database_url}")
    migrate.upgrade(settings.database_url)
    with session_scope(settings.database_url) as session:
        lists_added, subscribers_added = load_lists_and_subscribers(session)
        session.commit()  # each line is printed once what it reports is committed
        say(f"sample data: {lists_added} lists and {subscribers_added} subscribers added")
        say("\n== ingest")
        for path, feed in write_feeds(settings.data_dir / "sample-feeds"):
            report = ingest_file(session, path, name=feed["title"], section=feed["section"],
                                 weight=feed["weight"])
            session.commit()
            say(f"  {feed['title']:<24} {report.found:2} entries, {report.added:2} new"
                + (f"  REJECTED: {report.error}" if report.error else ""))
        total = session.exec(select(func.count()).select_from(Story)).one()
        say(f"  {total} stories stored (duplicates across feeds are stored once)")

        backend = get_backend(settings)
        for digest_list in session.exec(select(DigestList).order_by(DigestList.id)).all():
            say(f"\n== {digest_list.name} ({digest_list.slug})")
            edition = build_draft(session, digest_list, todays_slot(digest_list))
            session.commit()
            say(f"  edition {edition.id} for {edition.slot:%Y-%m-%d %H:%M} UTC: {edition.status}")
            if edition.status == EditionStatus.SKIPPED:
                say(f"  skipped: {edition.note}")
                continue
            say(f"  subject: {edition.subject}")
            for item in items(session, edition.id):
                say(f"    {item.position + 1:2}. [{item.section}] {item.headline}")
            if edition.status == EditionStatus.DRAFT:
                approve(session, edition.id)
                session.commit()
                say("  approved by the demo (an editor would review it first)")
            page = settings.data_dir / "preview" / f"edition-{edition.id}.html"
            page.parent.mkdir(parents=True, exist_ok=True)
            page.write_text(preview(session, settings, edition,
                                    preview_values(settings, edition)).html, encoding="utf-8")
            if edition.status == EditionStatus.APPROVED:
                report = send_inline(session, settings, backend, edition.id)
                say(f"  sent now: {format_outcomes(report.outcomes)}")
            else:
                say(f"  already {edition.status}: nothing sent again")
            counts = ledger.counts(session, edition.id)
            say(f"  ledger: {format_outcomes(counts)}")
            say(f"  browser preview: {page}")
    if settings.mail_backend == "outbox":
        count = len(list(Path(settings.outbox_dir).glob("*.eml")))
        say(f"\noutbox: {settings.outbox_dir} ({count} .eml files; open one in any mail client)")
    say("web: `DIGEST_ENVIRONMENT=development digest serve` (in a checkout, .venv/bin/digest), then "
        "http://127.0.0.1:8000/ for the sign-up pages and /staff/ for the console (create an account "
        "first: `digest users add EMAIL --role admin`, in development too)")
