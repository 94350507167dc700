"""`digest serve`: the web app (subscriber pages, archive, JSON API) under uvicorn."""

import typer

from digest.cli.common import app
from digest.settings import get_settings


@app.command()
def serve(host: str | None = typer.Option(None, help="Interface (default DIGEST_WEB_HOST)."),
          port: int | None = typer.Option(None, help="Port (default DIGEST_WEB_PORT)."),
          proxy_headers: bool = typer.Option(
              False, help="Trust X-Forwarded-For from 127.0.0.1 (behind a local reverse proxy), "
                          "so the sign-up limits see the visitor's address.")) -> None:
    """Serve the web app."""
    import uvicorn

    from digest.web.app import create_app
    settings = get_settings()
    uvicorn.run(create_app(settings), host=host or settings.web_host, port=port or settings.web_port,
                proxy_headers=proxy_headers, forwarded_allow_ips="127.0.0.1",
                # uvicorn's records (access log included) go through our logging set-up.
                log_config=None)
