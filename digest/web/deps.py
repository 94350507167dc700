"""What every router takes from the app: settings, a database session, templates, the mail queue."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import Request
from fastapi.templating import Jinja2Templates
from sqlmodel import Session

from digest import resource
from digest.db import get_engine
from digest.notices import notifier
from digest.settings import Settings
from digest.subscribers.notify import Notify

templates = Jinja2Templates(directory=resource("templates") / "web")


def settings(request: Request) -> Settings:
    return request.app.state.settings


def db_session(request: Request) -> Iterator[Session]:
    with Session(get_engine(request.app.state.settings.database_url), expire_on_commit=False) as session:
        yield session


def notify(request: Request) -> Notify:
    """Where the transactional mails go: a queue, never the relay in the request."""
    return notifier(request.app.state.settings)


def https(request: Request) -> bool:
    """Whether the app is served over https (its public URL says so): cookies are Secure then."""
    return request.app.state.settings.public_url.startswith("https")


def cookie_name(name: str, *, secure: bool) -> str:
    """`name`, `__Host-` prefixed on https: browsers then take the cookie only from this very
    host, over https, with Path=/ and no Domain, so a sibling subdomain cannot plant one."""
    return f"__Host-{name}" if secure else name


def page(request: Request, name: str, status_code: int = 200, **context):
    """Render one of templates/web/ with the brand every page shows."""
    context.setdefault("brand", request.app.state.settings.brand_name)
    return templates.TemplateResponse(request, name, context, status_code=status_code)
