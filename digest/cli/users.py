"""`digest users`: staff accounts."""

from datetime import datetime

import typer
from sqlmodel import select

from digest.cli.common import app, fail, say
from digest.db import session_scope
from digest.models import StaffUser
from digest.settings import get_settings
from digest.staff.accounts import (
    AccountError, Role, add_user, create_api_token, find_api_token, list_api_tokens, parse_expiry,
    revoke_api_token, set_password, token_state,
)

users_app = typer.Typer(help="Staff accounts (editors, ops, admins).", no_args_is_help=True)
app.add_typer(users_app, name="users")


@users_app.command("add")
def users_add(email: str, role: Role = typer.Option(..., "--role"),
              password: str = typer.Option(..., prompt=True, confirmation_prompt=True,
                                           hide_input=True)) -> None:
    """Create a staff account; the password is prompted for and stored argon2-hashed."""
    settings = get_settings()
    try:
        with session_scope(settings.database_url) as session:
            user = add_user(session, email=email, password=password, role=role)
    except AccountError as exc:
        fail(str(exc))
    say(f"added {user.email} ({user.role})")


@users_app.command("list")
def users_list() -> None:
    """Every staff account with its role."""
    settings = get_settings()
    with session_scope(settings.database_url) as session:
        users = session.exec(select(StaffUser).order_by(StaffUser.email)).all()
    for user in users:
        say(f"{user.email:40} {user.role:7} {'active' if user.active else 'disabled'}")


def _account(session, email: str) -> StaffUser:
    user = session.exec(select(StaffUser).where(StaffUser.email == email.lower())).one_or_none()
    if user is None:
        fail(f"no staff account {email}")
    return user


@users_app.command("token")
def users_token(email: str, name: str = typer.Option(..., "--name", help="What it is for, e.g. the script."),
                expires: str | None = typer.Option(None, "--expires", metavar="WHEN",
                                                   help="A duration (12h, 30d, 8w) or a date (YYYY-MM-DD); "
                                                        "default: never.")) -> None:
    """Create an API token for a staff account; it is printed once, alone on stdout."""
    settings = get_settings()
    try:
        expires_at = parse_expiry(expires) if expires else None
        with session_scope(settings.database_url) as session:
            token = create_api_token(session, _account(session, email), name, expires_at)
    except AccountError as exc:
        fail(str(exc))
    say(token)
    say(f"token {name.strip()!r} for {email.lower()}, "
        + (f"expires {_when(expires_at)}" if expires_at else "never expires"), err=True)


def _when(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC" if moment else "-"


@users_app.command("tokens")
def users_tokens(email: str | None = typer.Argument(None, metavar="[EMAIL]", help="Only this account's.")) -> None:
    """API tokens (never their values): id, name, owner, created, last used, expires, state."""
    settings = get_settings()
    with session_scope(settings.database_url) as session:
        rows = list_api_tokens(session, _account(session, email) if email else None)
    if not rows:
        say("no API tokens")
    for row, owner in rows:
        say(f"{row.id:4}  {row.name:<20} {owner:<32} created {_when(row.created_at)}  "
            f"last used {_when(row.last_used_at)}  expires {_when(row.expires_at) if row.expires_at else 'never'}"
            f"  {token_state(row)}")


@users_app.command("revoke")
def users_revoke(token: str = typer.Argument(..., metavar="TOKEN", help="The token's id or name."),
                 email: str | None = typer.Option(None, "--user", help="Only this account's tokens.")) -> None:
    """Revoke an API token (by id, or by a name only one token not yet revoked has); it gets 401 from now on."""
    settings = get_settings()
    try:
        with session_scope(settings.database_url) as session:
            row = find_api_token(session, token, _account(session, email) if email else None)
            revoked = revoke_api_token(row)
    except AccountError as exc:
        fail(str(exc))
    say(f"token {row.id} ({row.name}) " + ("revoked" if revoked else "was already revoked"))


@users_app.command("password")
def users_password(email: str, password: str = typer.Option(..., prompt="New password", confirmation_prompt=True,
                                                            hide_input=True)) -> None:
    """Set a new password for a staff account; every console session of the account ends."""
    settings = get_settings()
    try:
        with session_scope(settings.database_url) as session:
            set_password(session, _account(session, email), password)
    except AccountError as exc:
        fail(str(exc))
    say(f"new password set for {email.lower()}; its console sessions have ended")
