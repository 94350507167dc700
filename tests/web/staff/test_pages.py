"""Console actions through the real app (TestClient): each calls the same service as the CLI."""

from sqlmodel import select

from digest.curate.editions import build_draft, items, todays_slot
from digest.models import Edition, Subscriber
from tests.factories import sample_world


def _draft(session, settings, slug="tech-and-science"):
    digest_list = sample_world(session, settings)[slug]
    edition = build_draft(session, digest_list, todays_slot(digest_list))
    session.commit()
    return edition


def test_an_editor_gets_a_test_copy_and_the_draft_stays_a_draft(signed_in, web_settings, sqlite_session, smtp_server):
    edition = _draft(sqlite_session, web_settings)
    client, token = signed_in("editor")
    response = client.post(f"/staff/editions/{edition.id}/test", data={"csrf_token": token})
    assert response.status_code == 200 and "test copy is on its way" in response.text
    assert smtp_server.recipients() == ["editor@example.org"]
    assert smtp_server.messages[0]["Subject"].startswith("[TEST] ")
    sqlite_session.expire_all()
    assert sqlite_session.get(Edition, edition.id).status == "draft"


def test_a_refused_edit_is_shown_on_the_page_and_changes_nothing(signed_in, web_settings, sqlite_session):
    edition = _draft(sqlite_session, web_settings)
    first = items(sqlite_session, edition.id)[0]
    client, token = signed_in("editor")
    client.post(f"/staff/editions/{edition.id}/approve", data={"csrf_token": token})
    page = client.post(f"/staff/editions/{edition.id}/items/{first.id}/edit",
                       data={"csrf_token": token, "headline": "Changed", "summary": "Changed"})
    assert "only a draft can be edited" in page.text
    sqlite_session.expire_all()
    assert items(sqlite_session, edition.id)[0].headline == first.headline


def test_ops_import_a_csv_and_see_every_row_reported(signed_in, web_settings, sqlite_session):
    sample_world(sqlite_session, web_settings)
    client, token = signed_in("ops")
    csv = "email,name\nnew.reader@example.net,New Reader\nnot-an-address,Bad\nnew.reader@example.net,Again\n"
    page = client.post("/staff/subscribers/import", data={"csrf_token": token, "list": "morning-briefing"},
                       files={"file": ("readers.csv", csv, "text/csv")})
    assert page.status_code == 200
    assert "<strong>1</strong> added" in page.text
    assert "not-an-address" in page.text and "duplicate" in page.text.lower()
    found = client.get("/staff/subscribers", params={"q": "new.reader"})
    assert "new.reader@example.net" in found.text
    export = client.get("/staff/subscribers/export/morning-briefing")
    assert export.headers["content-type"].startswith("text/csv") and "new.reader@example.net" in export.text


def test_a_subscriber_page_shows_their_delivery_history(signed_in, web_settings, sqlite_session):
    from digest.mail.backends.memory import MemoryBackend
    from digest.send.service import send_inline
    from tests.factories import approved_edition
    morning = sample_world(sqlite_session, web_settings)["morning-briefing"]
    edition = approved_edition(sqlite_session, morning)
    send_inline(sqlite_session, web_settings, MemoryBackend(), edition.id)
    ada = sqlite_session.exec(select(Subscriber).where(Subscriber.email == "ada.lovelace@example.com")).one()
    client, _ = signed_in("ops")
    page = client.get(f"/staff/subscribers/{ada.id}")
    assert f"#{edition.id}" in page.text and ">sent<" in page.text
    assert "Morning Briefing" in page.text and "time zone: each list&#39;s own" in page.text


def test_the_api_drives_a_draft_from_reorder_to_sent(web_settings, sqlite_session, staff, client, smtp_server):
    from digest.staff.accounts import create_api_token
    edition = _draft(sqlite_session, web_settings)
    auth = {"Authorization": f"Bearer {create_api_token(sqlite_session, staff['admin'], 'test')}"}
    sqlite_session.commit()
    body = client.get(f"/api/editions/{edition.id}", headers=auth).json()
    third = body["items"][2]
    moved = client.patch(f"/api/editions/{edition.id}/items/{third['id']}", json={"position": 1}, headers=auth)
    assert moved.json()["items"][0]["id"] == third["id"]
    assert client.post(f"/api/editions/{edition.id}/approve", headers=auth).json()["status"] == "approved"
    refused = client.patch(f"/api/editions/{edition.id}", json={"subject": "Too late"}, headers=auth)
    assert refused.status_code == 409 and "only a draft" in refused.json()["detail"]
    started = client.post(f"/api/editions/{edition.id}/send/start", headers=auth)
    assert started.status_code == 200
    twice = client.post(f"/api/editions/{edition.id}/send/start", headers=auth)
    # The first send runs in a background thread: it may or may not have finished by now.
    assert twice.status_code == 409
    assert any(s in twice.json()["detail"] for s in ("already sending", "is sent"))
    from tests.factories import active_emails
    from tests.workers import wait_for
    from digest.models import DigestList
    expected = active_emails(sqlite_session, sqlite_session.get(DigestList, edition.list_id))
    wait_for(lambda: client.get(f"/api/editions/{edition.id}/progress", headers=auth).json()["status"] == "sent")
    assert sorted(smtp_server.recipients()) == sorted(expected)


def test_ops_manage_sources_through_the_api(web_settings, sqlite_session, staff, client):
    from digest.staff.accounts import create_api_token
    auth = {"Authorization": f"Bearer {create_api_token(sqlite_session, staff['ops'], 'test')}"}
    sqlite_session.commit()
    bad = client.post("/api/sources", json={"url": "ftp://example.org/feed"}, headers=auth)
    assert bad.status_code == 422 and bad.json()["detail"].startswith("url:")
    made = client.post("/api/sources", json={"url": "https://example.org/feed.xml", "name": "Example",
                                             "section": "tech", "every_minutes": 30}, headers=auth)
    assert made.status_code == 201 and made.json()["state"] == "active"
    source_id = made.json()["id"]
    paused = client.patch(f"/api/sources/{source_id}", json={"active": False, "weight": 2.5}, headers=auth)
    assert paused.json()["state"] == "paused" and paused.json()["weight"] == 2.5
    assert [s["name"] for s in client.get("/api/sources", headers=auth).json()] == ["Example"]
    assert client.delete(f"/api/sources/{source_id}", headers=auth).json() == {"removed_stories": 0}
    assert client.get("/api/sources", headers=auth).json() == []
    assert client.delete(f"/api/sources/{source_id}", headers=auth).status_code == 404


def test_ops_see_why_a_send_is_not_moving_on_the_page_and_in_the_api(signed_in, staff, web_settings,
                                                                      sqlite_session, smtp_server):
    from digest.staff.accounts import create_api_token
    from tests.factories import approved_edition
    from tests.workers import wait_for
    morning = sample_world(sqlite_session, web_settings)["morning-briefing"]
    edition = approved_edition(sqlite_session, morning)
    auth = {"Authorization": f"Bearer {create_api_token(sqlite_session, staff['ops'], 'test')}"}
    sqlite_session.commit()
    client, token = signed_in("ops")
    smtp_server.down()
    client.post(f"/staff/editions/{edition.id}/send/start", data={"csrf_token": token})
    progress = wait_for(lambda: (p := client.get(f"/api/editions/{edition.id}/progress", headers=auth).json())
                        ["problem"] and p)
    assert progress["problem"].startswith("relay unreachable since ") and "cannot connect" in progress["problem"]
    assert progress["deferred"] > 0 and progress["sent"] == 0
    page = client.get(f"/staff/editions/{edition.id}/send")
    assert 'role="alert"' in page.text and "relay unreachable since " in page.text


def test_ops_import_an_opml_file_see_every_feed_reported_and_export_it(signed_in, sqlite_session):
    from pathlib import Path

    from digest.models import Source
    opml = (Path(__file__).parents[2] / "ingest" / "opml" / "reader.opml").read_bytes()
    client, token = signed_in("ops")
    sources_page = client.get("/staff/sources").text
    assert 'action="/staff/sources/import"' in sources_page and "/staff/sources/export.opml" in sources_page
    page = client.post("/staff/sources/import", data={"csrf_token": token},
                       files={"file": ("reader.opml", opml, "text/x-opml")})
    assert page.status_code == 200
    assert "<strong>4</strong> added, <strong>1</strong> already present, <strong>4</strong> refused." in page.text
    assert "Titled &amp; escaped" in page.text and "192.168.1.1 is a private or reserved address" in page.text
    assert len(sqlite_session.exec(select(Source)).all()) == 4

    forged = client.post("/staff/sources/import", data={"csrf_token": "forged"},
                         files={"file": ("reader.opml", opml, "text/x-opml")})
    assert forged.status_code == 403
    bomb = (Path(__file__).parents[2] / "ingest" / "opml" / "bomb.opml").read_bytes()
    refused = client.post("/staff/sources/import", data={"csrf_token": token},
                          files={"file": ("bomb.opml", bomb, "text/x-opml")})
    assert "bomb.opml: refused: the document declares XML entities" in refused.text
    assert len(sqlite_session.exec(select(Source)).all()) == 4

    editor, _ = signed_in("editor")
    assert 'action="/staff/sources/import"' not in editor.get("/staff/sources").text
    export = editor.get("/staff/sources/export.opml")
    assert export.headers["content-type"].startswith("text/x-opml")
    assert export.text.count("xmlUrl=") == 4 and 'text="world-europe"' in export.text


def test_the_api_refuses_a_source_on_a_private_address(sqlite_session, staff, client):
    from digest.staff.accounts import create_api_token
    auth = {"Authorization": f"Bearer {create_api_token(sqlite_session, staff['ops'], 'test')}"}
    sqlite_session.commit()
    refused = client.post("/api/sources", json={"url": "http://192.168.1.1/feed.xml"}, headers=auth)
    assert refused.status_code == 422 and "never fetched from" in refused.json()["detail"]
