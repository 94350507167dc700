"""`make demo`: one full cycle on the embedded defaults, narrated."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlmodel import func, select

from digest import migrate
from digest.curate.editions import approve, build_draft, items, todays_slot
from digest.db import session_scope
from digest.ingest.service import ingest_file
from digest.mail.backends import get_backend
from digest.models import DigestList, EditionStatus, Story
from digest.sample import load_lists_and_subscribers, write_feeds
from digest.render.digest import preview_html
from digest.send import ledger
from digest.send.service import format_outcomes, send_inline
from digest.settings import Settings


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
            preview = settings.data_dir / "preview" / f"edition-{edition.id}.html"
            preview.parent.mkdir(parents=True, exist_ok=True)
            preview.write_text(preview_html(session, settings, edition), encoding="utf-8")
            if edition.status == EditionStatus.APPROVED:
                report = send_inline(session, settings, backend, edition.id)
                say(f"  sent now: {format_outcomes(report.outcomes)}")
            else:
                say(f"  already {edition.status}: nothing sent again")
            counts = ledger.counts(session, edition.id)
            say(f"  ledger: {format_outcomes(counts)}")
            say(f"  browser preview: {preview}")
    if settings.mail_backend == "outbox":
        count = len(list(Path(settings.outbox_dir).glob("*.eml")))
        say(f"\noutbox: {settings.outbox_dir} ({count} .eml files; open one in any mail client)")
    say("web: `.venv/bin/digest serve`, then http://127.0.0.1:8000/ for the sign-up pages and "
        "/staff/ for the console (create an account first: `.venv/bin/digest users add EMAIL --role admin`)")
