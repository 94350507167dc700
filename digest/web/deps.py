"""What every router takes from the app: settings, a database session, templates, mail."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import Request
from fastapi.templating import Jinja2Templates
from sqlmodel import Session

from digest import PROJECT_ROOT
from digest.db import get_engine
from digest.mail.backends import MailBackend, get_backend
from digest.settings import Settings

templates = Jinja2Templates(directory=PROJECT_ROOT / "templates" / "web")


def settings(request: Request) -> Settings:
    return request.app.state.settings


def db_session(request: Request) -> Iterator[Session]:
    with Session(get_engine(request.app.state.settings.database_url), expire_on_commit=False) as session:
        yield session


def mail_backend(request: Request) -> MailBackend:
    return get_backend(request.app.state.settings)


def page(request: Request, name: str, status_code: int = 200, **context):
    """Render one of templates/web/ with the brand every page shows."""
    context.setdefault("brand", request.app.state.settings.brand_name)
    return templates.TemplateResponse(request, name, context, status_code=status_code)
