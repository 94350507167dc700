"""The subject test from the console and the API: an editor gives a second subject on the
draft page or by PATCH; the send page and the progress API show both rates and the winner."""

from digest.curate.editions import approve
from digest.mail.backends.memory import MemoryBackend
from digest.models import Edition
from digest.send.service import send_inline
from digest.staff.accounts import create_api_token
from tests.web.staff.test_pages import _draft


def test_an_editor_sets_a_second_subject_and_ops_see_how_both_do(signed_in, staff, web_settings, sqlite_session):
    edition = _draft(sqlite_session, web_settings)
    client, token = signed_in("editor")
    page = client.get(f"/staff/editions/{edition.id}")
    assert 'name="subject_b"' in page.text
    client.post(f"/staff/editions/{edition.id}/envelope",
                data={"csrf_token": token, "subject": edition.subject, "preheader": edition.preheader,
                      "subject_b": "A second subject"})
    sqlite_session.expire_all()
    saved = sqlite_session.get(Edition, edition.id)
    assert saved.subject_b == "A second subject" and not saved.subject_written
    auth = {"Authorization": f"Bearer {create_api_token(sqlite_session, staff['editor'], 'test')}"}
    sqlite_session.commit()
    changed = client.patch(f"/api/editions/{edition.id}", json={"subject_b": "Tested by API"}, headers=auth)
    assert changed.status_code == 200 and changed.json()["subject_b"] == "Tested by API"
    approve(sqlite_session, edition.id)
    sqlite_session.commit()

    send_inline(sqlite_session, web_settings, MemoryBackend(), edition.id)

    progress = client.get(f"/api/editions/{edition.id}/progress", headers=auth).json()
    test = progress["subject_test"]
    assert test["subject_b"] == "Tested by API" and test["winner"] is None
    assert test["a"]["delivered"] >= 1 and test["b"]["delivered"] >= 1 and test["decides_at"]
    send_page = client.get(f"/staff/editions/{edition.id}/send").text
    assert "Subject test" in send_page and "Tested by API" in send_page and "the rest wait until" in send_page
