from datetime import timedelta

import pytest
from sqlmodel import select

from digest.models import StaffSession, utcnow
from digest.staff.accounts import (
    AccountError, Permission, add_user, authenticate, can, create_api_token, open_session,
    user_for_session, user_for_token,
)


def test_a_user_logs_in_with_the_right_password_only(session):
    add_user(session, email="Editor@Example.org", password="correct horse battery", role="editor")
    session.commit()
    user = authenticate(session, "editor@example.org", "correct horse battery")
    assert user is not None and user.role == "editor"
    assert user.password_hash.startswith("$argon2")
    assert authenticate(session, "editor@example.org", "wrong password!!") is None
    assert authenticate(session, "nobody@example.org", "correct horse battery") is None


@pytest.mark.parametrize("email, password, role, field", [
    ("not-an-email", "long enough password", "editor", "email"),
    ("a@example.org", "short", "editor", "password"),
    ("a@example.org", "long enough password", "overlord", "role"),
])
def test_bad_account_input_names_the_field(session, email, password, role, field):
    with pytest.raises(AccountError, match=f"^{field}:"):
        add_user(session, email=email, password=password, role=role)


def test_roles_grant_only_their_permissions(session):
    editor = add_user(session, email="e@example.org", password="x" * 12, role="editor")
    ops = add_user(session, email="o@example.org", password="x" * 12, role="ops")
    admin = add_user(session, email="a@example.org", password="x" * 12, role="admin")
    assert can(editor, Permission.EDIT) and not can(editor, Permission.OPERATE)
    assert can(ops, Permission.OPERATE) and not can(ops, Permission.EDIT)
    assert all(can(admin, p) for p in Permission)
    ops.active = False
    assert not can(ops, Permission.OPERATE)


def test_api_tokens_are_stored_hashed_and_resolve_to_their_user(session):
    user = add_user(session, email="ops@example.org", password="x" * 12, role="ops")
    token = create_api_token(session, user, "deploy script")
    session.commit()
    assert user_for_token(session, token).id == user.id
    assert user_for_token(session, token + "x") is None
    from digest.models import ApiToken
    from sqlmodel import select
    assert token not in {t.token_hash for t in session.exec(select(ApiToken)).all()}


def test_a_session_ends_when_it_expires_and_is_swept_at_the_next_sign_in(session):
    user = add_user(session, email="ops@example.org", password="x" * 12, role="ops")
    token = open_session(session, user, hours=1)
    assert user_for_session(session, token) is user
    row = session.exec(select(StaffSession)).one()
    assert token not in row.token_hash  # only a hash is kept
    row.expires_at = utcnow() - timedelta(seconds=1)
    assert user_for_session(session, token) is None
    open_session(session, user, hours=1)
    assert len(session.exec(select(StaffSession)).all()) == 1
