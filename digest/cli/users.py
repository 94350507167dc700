"""`digest users`: staff accounts."""

import typer
from sqlmodel import select

from digest.cli.common import app, fail, say
from digest.db import session_scope
from digest.models import StaffUser
from digest.settings import get_settings
from digest.staff.accounts import AccountError, Role, add_user, create_api_token, set_password

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
def users_token(email: str, name: str = typer.Option("cli", "--name")) -> None:
    """Create an API token for a staff account; it is shown once."""
    settings = get_settings()
    with session_scope(settings.database_url) as session:
        token = create_api_token(session, _account(session, email), name)
    say(token)  # only once it is stored: a token shown and then rolled back would not work


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
