"""CSV import and export: per-row report by line, the rest imported, nothing half-written."""

import csv
import io

import pytest
from sqlalchemy import text
from sqlmodel import select

from digest.models import DigestList, Subscriber, Subscription
from digest.subscribers.importing import ImportFileError, export_csv, import_csv, write_report
from digest.subscribers.manage import unsubscribe
from digest.subscribers.suppression import suppress

CSV = """email,name,topics
ann@example.org,Ann,science;gossip
not-an-address,Bad,
"Bob <bob@example.org>",Bob,
ANN@example.org,Ann again,
gone@example.org,Gone,
left@example.org,Left,
"quoted@example.org","Multi
line",world
pending@example.org,Pen,
,Empty,
"""


def outcomes(report):
    return [(r.line, r.outcome, r.reason) for r in report.rows]


def test_bad_rows_are_reported_by_line_and_the_rest_imported(session, news):
    suppress(session, "gone@example.org", "bounce")
    for email, status in (("left@example.org", "unsubscribed"), ("pending@example.org", "pending")):
        person = Subscriber(email=email)
        session.add(person)
        session.flush()
        session.add(Subscription(subscriber_id=person.id, list_id=news.id, status=status))
    session.commit()

    report = import_csv(session, "news", io.StringIO(CSV))
    rows = outcomes(report)
    assert rows[0] == (2, "added", "unknown topics ignored: gossip")
    assert rows[1][:2] == (3, "skipped") and rows[1][2].startswith("bad address:")
    assert rows[2][:2] == (4, "skipped") and rows[2][2].startswith("bad address:")
    assert rows[3] == (5, "skipped", "duplicate of line 2")
    assert rows[4] == (6, "skipped", "suppressed")
    assert rows[5] == (7, "skipped", "unsubscribed from this list earlier")
    assert rows[6] == (9, "added", "")           # a quoted field spanning two lines
    assert rows[7] == (10, "updated", "")        # pending becomes active
    assert rows[8][:2] == (11, "skipped")
    assert report.counts() == {"added": 2, "updated": 1, "skipped": 6}

    active = dict(session.exec(
        select(Subscriber.email, Subscription.topics).join(Subscription)
        .where(Subscription.status == "active")).all())
    assert active == {"ann@example.org": ["science"], "quoted@example.org": ["world"],
                      "pending@example.org": []}
    assert session.exec(select(Subscriber).where(Subscriber.email == "gone@example.org")).first() is None

    again = import_csv(session, "news", io.StringIO("email,name\nann@example.org,Ann\nann2@example.org,\n"))
    assert outcomes(again) == [(2, "skipped", "already subscribed"), (3, "added", "")]


def test_unsubscribed_from_all_is_never_re_imported(session, news):
    import_csv(session, "news", io.StringIO("email\nzed@example.org\n"))
    zed = session.exec(select(Subscriber).where(Subscriber.email == "zed@example.org")).one()
    unsubscribe(session, zed.id, None)
    other = DigestList(slug="other", name="Other")
    session.add(other)
    session.commit()
    report = import_csv(session, "other", io.StringIO("email\nZed@Example.org\n"))
    assert outcomes(report) == [(2, "skipped", "suppressed")]


def test_a_file_without_an_email_column_is_refused(session, news):
    with pytest.raises(ImportFileError, match="email"):
        import_csv(session, "news", io.StringIO("address,name\nx@example.org,X\n"))


def test_a_database_error_leaves_nothing_half_imported(sqlite_session):
    sqlite_session.add(DigestList(slug="news", name="The News"))
    sqlite_session.commit()
    # A real constraint failure in the second chunk, after the first one went in.
    sqlite_session.execute(text(
        "CREATE TRIGGER refuse_boom BEFORE INSERT ON subscriber WHEN NEW.email = 'boom@example.org' "
        "BEGIN SELECT RAISE(ABORT, 'refused by trigger'); END"))
    sqlite_session.commit()
    rows = "".join(f"p{i}@example.org\n" for i in range(1500)) + "boom@example.org\n"
    with pytest.raises(Exception, match="refused by trigger"):
        import_csv(sqlite_session, "news", io.StringIO("email\n" + rows))
    assert sqlite_session.exec(select(Subscriber)).all() == []
    assert sqlite_session.exec(select(Subscription)).all() == []


def test_export_writes_every_subscription(session, news):
    import_csv(session, "news", io.StringIO("email,name,topics\nb@example.org,Bee,world\na@example.org,,\n"))
    out = io.StringIO()
    assert export_csv(session, "news", out) == 2
    lines = list(csv.reader(io.StringIO(out.getvalue())))
    assert lines[0] == ["email", "name", "status", "topics", "timezone", "created_at", "confirmed_at",
                        "unsubscribed_at"]
    assert lines[1][:4] == ["a@example.org", "", "active", ""]
    assert lines[2][:4] == ["b@example.org", "Bee", "active", "world"]


def test_a_timezone_column_sets_each_readers_zone_and_a_bad_zone_refuses_only_its_row(session, news):
    session.add(Subscriber(email="known@example.org", name="Kay", timezone="Europe/Paris"))
    session.commit()
    report = import_csv(session, "news", io.StringIO(
        "email,name,timezone\n"
        "tokyo@example.org,Tee,Asia/Tokyo\n"
        "mars@example.org,Em,Mars/Olympus_Mons\n"
        "none@example.org,,\n"
        "known@example.org,,America/New_York\n"))
    assert outcomes(report) == [
        (2, "added", ""),
        (3, "skipped", "bad time zone: 'Mars/Olympus_Mons' is not a known time zone (e.g. Europe/London, UTC)"),
        (4, "added", ""), (5, "added", "")]
    zones = dict(session.exec(select(Subscriber.email, Subscriber.timezone)).all())
    assert zones == {"tokyo@example.org": "Asia/Tokyo", "none@example.org": None,
                     "known@example.org": "America/New_York"}
    assert session.exec(select(Subscriber.name).where(Subscriber.email == "known@example.org")).one() == "Kay"
    out = io.StringIO()
    export_csv(session, "news", out)
    exported = {line[0]: line[4] for line in csv.reader(io.StringIO(out.getvalue()))}
    assert exported["tokyo@example.org"] == "Asia/Tokyo" and exported["none@example.org"] == ""


FORMULAS = """email,name,topics
=1+2@example.org,"=cmd|' /C calc'!A0",-opinion
plus@example.org,+1 555 0100,world;-opinion
minus@example.org,-2,
at@example.org,@SUM(A1),
quote@example.org,''=quoted,
sheet@example.org,'@home,
plain@example.org,O'Brien,
"""


def test_exported_cells_never_start_a_formula_and_import_back_unchanged(session):
    for slug in ("signs", "again"):
        session.add(DigestList(slug=slug, name=slug, sections=["world", "-opinion"]))
    session.commit()
    import_csv(session, "signs", io.StringIO(FORMULAS))
    out = io.StringIO()
    export_csv(session, "signs", out)
    exported = out.getvalue()
    # A spreadsheet reads a cell starting with = + - @ tab or CR as a formula (OWASP, "CSV
    # injection"); quoted, a separator inside a cell cannot start a new one in any locale.
    cells = [cell for row in csv.reader(io.StringIO(exported)) for cell in row]
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert all(line.startswith('"') for line in exported.splitlines())
    rows = {row[0]: row[1:4] for row in csv.reader(io.StringIO(exported))}
    assert rows["'=1+2@example.org"] == ["'=cmd|' /C calc'!A0", "active", "'-opinion"]
    assert rows["plus@example.org"] == ["'+1 555 0100", "active", "world;-opinion"]
    assert rows["quote@example.org"][0] == "''=quoted"
    assert rows["plain@example.org"][0] == "O'Brien"

    people = {s.email: s.name for s in session.exec(select(Subscriber)).all()}
    report = import_csv(session, "again", io.StringIO(exported))
    assert [r.outcome for r in report.rows] == ["added"] * 7
    assert {s.email: s.name for s in session.exec(select(Subscriber)).all()} == people
    assert people["=1+2@example.org"] == "=cmd|' /C calc'!A0"
    # A quote before a formula character is the spreadsheets' mark for text, not part of it.
    assert people["sheet@example.org"] == "@home"
    assert people["quote@example.org"] == "'=quoted"
    topics = dict(session.exec(select(Subscriber.email, Subscription.topics).join(Subscription)
                               .join(DigestList).where(DigestList.slug == "again")).all())
    assert topics["=1+2@example.org"] == ["-opinion"]
    assert topics["plus@example.org"] == ["world", "-opinion"]


def test_the_import_report_neutralises_what_the_file_carried(session, news):
    report = import_csv(session, "news", io.StringIO("email\n\"=cmd|' /C calc'!A0\"\n"))
    out = io.StringIO()
    write_report(report.rows, out)
    line = list(csv.reader(io.StringIO(out.getvalue())))[1]
    assert line[:3] == ["2", "'=cmd|' /C calc'!A0", "skipped"]
