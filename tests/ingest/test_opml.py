"""OPML in and out: folders become sections, every feed once, each outline's outcome, the
same refusals as `digest sources add`, and an export that imports back to the same sources."""

from pathlib import Path

import pytest
from sqlmodel import Session, select
from typer.testing import CliRunner

from digest import migrate
from digest.cli import app
from digest.db import get_engine
from digest.ingest.network import AddressPolicy
from digest.ingest.opml import OpmlError, export_opml, import_opml, read_opml, section_for
from digest.ingest.sources import add_source
from digest.models import Source

OPML = Path(__file__).parent / "opml"
STRICT = AddressPolicy()


def sources(session) -> list[tuple]:
    return sorted((s.url, s.name, s.section, s.weight, s.poll_interval_minutes)
                  for s in session.exec(select(Source)).all())


def test_nested_folders_become_sections_each_feed_once_each_outline_reported(session):
    outcomes = import_opml(session, (OPML / "reader.opml").read_bytes(), policy=STRICT)
    session.commit()
    report = [(o.outcome, o.outline.title, o.outline.section, o.reason) for o in outcomes]
    assert report[:5] == [
        ("added", "Loose Feed", "news", ""),
        ("added", "Text only", "world", ""),
        ("added", "Titled & escaped", "world-europe", ""),
        ("added", "https://untitled.example.net/feed.json", "world-europe", ""),
        ("already present", "World again", "tech-science", ""),
    ]
    refused = {title: reason for outcome, title, _, reason in report[5:] if outcome == "refused"}
    assert refused == {
        "Bad scheme": "url: 'ftp://files.example.org/feed' is not an absolute http(s) URL",
        "Router": "url: 192.168.1.1 is a private or reserved address, which feeds are never "
                  "fetched from (DIGEST_FETCH_ALLOW_PRIVATE, DIGEST_FETCH_ALLOWED_HOSTS)",
        "Loopback": "url: localhost is a loopback name, which feeds are never fetched from "
                    "(DIGEST_FETCH_ALLOW_PRIVATE, DIGEST_FETCH_ALLOWED_HOSTS)",
        "Secret": "url: credentials in the URL are not supported",
    }
    assert len(report) == 9
    assert outcomes[4].source_id == outcomes[1].source_id  # the same feed, found by its normalised URL
    assert [s[:3] for s in sources(session)] == [
        ("https://europe.example.net/atom", "Titled & escaped", "world-europe"),
        ("https://loose.example.org/rss", "Loose Feed", "news"),
        ("https://untitled.example.net/feed.json", "https://untitled.example.net/feed.json", "world-europe"),
        ("https://world.example.org/feed.xml", "Text only", "world"),
    ]


def test_a_second_import_is_a_no_op(session):
    data = (OPML / "reader.opml").read_bytes()
    import_opml(session, data, policy=STRICT)
    session.commit()
    before = sources(session)
    again = import_opml(session, data, policy=STRICT)
    session.commit()
    assert sources(session) == before
    assert {o.outcome for o in again} == {"already present", "refused"}
    assert not any(o.outcome == "added" for o in again)


def test_a_feed_already_a_source_is_left_as_it_is(session):
    mine = add_source(session, url="https://world.example.org/feed.xml", name="Mine", section="local",
                      weight=2.5)
    outcomes = import_opml(session, (OPML / "reader.opml").read_bytes(), policy=STRICT)
    assert [(o.outcome, o.source_id) for o in outcomes if "world.example" in o.outline.url.lower()] == [
        ("already present", mine.id), ("already present", mine.id)]
    assert (mine.name, mine.section, mine.weight) == ("Mine", "local", 2.5)


def test_export_imports_back_into_a_fresh_database_as_the_same_sources(session, tmp_path):
    import_opml(session, (OPML / "reader.opml").read_bytes(), policy=STRICT)
    add_source(session, url="https://heavy.example.com/feed?id=7&lang=de", name="Schwer <b>& Co</b>",
               section="wirtschaft", weight=3.5, every_minutes=15)
    session.add(Source(name="a file", url="file:///tmp/feed.xml"))  # `ingest --file`: not shared
    session.commit()
    document = export_opml(session)
    assert document.startswith(b"<?xml version='1.0' encoding='utf-8'?>\n<opml version=\"2.0\"")

    fresh_url = f"sqlite:///{tmp_path / 'fresh.db'}"
    migrate.upgrade(fresh_url)
    with Session(get_engine(fresh_url)) as fresh:
        outcomes = import_opml(fresh, document, policy=STRICT)
        fresh.commit()
        assert {o.outcome for o in outcomes} == {"added"}
        exported = [s for s in sources(session) if s[0].startswith("http")]
        assert sources(fresh) == exported
        assert export_opml(fresh) == document
    get_engine(fresh_url).dispose()


def test_a_malformed_file_is_refused_whole_naming_the_line(session):
    with pytest.raises(OpmlError, match=r"not well-formed XML \(no element found: line 6"):
        import_opml(session, (OPML / "truncated.opml").read_bytes(), policy=STRICT)
    assert sources(session) == []
    for data, message in [
        (b"", "not well-formed XML"),
        (b"<rss version='2.0'><channel/></rss>", "not an OPML document: its root element is <rss>"),
        (b"<opml version='2.0'><head/></opml>", "not an OPML document: no <body>"),
    ]:
        with pytest.raises(OpmlError, match=message):
            read_opml(data)


def test_an_entity_bomb_is_refused_before_anything_is_read(session):
    with pytest.raises(OpmlError, match="refused: the document declares XML entities"):
        import_opml(session, (OPML / "bomb.opml").read_bytes(), policy=STRICT)
    assert sources(session) == []
    xxe = (b'<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
           b'<opml version="2.0"><body><outline text="&x;" xmlUrl="https://x.example.org/"/></body></opml>')
    with pytest.raises(OpmlError, match="declares XML entities"):
        read_opml(xxe)


def test_section_names_from_folder_paths():
    assert section_for([]) == "news"
    assert section_for(["World", "Europe"]) == "world-europe"
    assert section_for(["Économie & Société"]) == "economie-societe"
    assert section_for(["新闻"]) == "news"
    assert section_for(["x" * 80]) == "x" * 64


def test_the_cli_imports_reports_and_exports(door_database, tmp_path):
    runner = CliRunner()
    listed = runner.invoke(app, ["lists", "add", "world", "--name", "World", "--sections", "world,news"])
    assert listed.exit_code == 0, listed.output
    result = runner.invoke(app, ["sources", "import", str(OPML / "reader.opml")])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "added: Loose Feed [news] https://loose.example.org/rss (source 1)"
    assert ("already present: World again [tech-science] "
            "HTTPS://WORLD.example.org:443/feed.xml?utm_source=reader (source 2)") in lines
    # door_database allows localhost (the tests' feed server), as the fetcher would.
    assert "added: Loopback [tech-science] http://localhost:8080/feed (source 5)" in lines
    assert lines[-2] == "5 added, 1 already present, 3 refused"
    assert lines[-1] == ("no list takes the sections tech-science, world-europe yet: add them "
                         "with `digest lists update SLUG --sections ...`")

    out = tmp_path / "out.opml"
    exported = runner.invoke(app, ["sources", "export", "--out", str(out)])
    assert exported.exit_code == 0 and "5 sources exported" in exported.output
    assert runner.invoke(app, ["sources", "export"]).output.encode() == out.read_bytes()
    again = runner.invoke(app, ["sources", "import", str(out)])
    assert again.output.splitlines()[-1] == "0 added, 5 already present, 0 refused"

    bomb = runner.invoke(app, ["sources", "import", str(OPML / "bomb.opml")])
    assert bomb.exit_code == 1
    assert bomb.output.startswith(f"error: {OPML / 'bomb.opml'}: refused: the document declares XML entities")
    assert bomb.output.rstrip().endswith("; nothing imported")


def test_the_cli_add_refuses_a_private_address_unless_allowed(door_database):
    runner = CliRunner()
    refused = runner.invoke(app, ["sources", "add", "http://10.0.0.5/feed"])
    assert refused.exit_code == 1 and "10.0.0.5 is a private or reserved address" in refused.output
    # door_database allows localhost (the tests' feed server): the setting is honoured.
    assert runner.invoke(app, ["sources", "add", "http://localhost:9/feed"]).exit_code == 0


def test_deep_nesting_and_unreadable_attributes_are_reported_not_crashed_on(session):
    deep = 5000
    document = ('<opml version="2.0" xmlns:digest="urn:x-digest:opml"><body>'
                + '<outline text="f">' * deep
                + '<outline text="Deep" xmlUrl="https://deep.example.org/feed"/>'
                + "</outline>" * deep
                + '<outline text="Odd" xmlUrl="https://odd.example.org/feed" digest:weight="heavy"/>'
                + "</body></opml>").encode()
    outcomes = import_opml(session, document, policy=STRICT)
    assert [(o.outline.title, o.outcome, o.reason) for o in outcomes] == [
        ("Deep", "added", ""), ("Odd", "refused", "weight: 'heavy' is not a number")]
    assert outcomes[0].outline.section == "-".join(["f"] * 32)  # 64 characters at most
