"""`digest summarize`: the title and summary the curator would use for an article page."""

from pathlib import Path

import typer

from digest.cli.common import app, fail, say
from digest.curate.summarise import summarise
from digest.ingest.article import extract_article
from digest.ingest.fetch import FetchError, fetch, limits_from
from digest.ingest.language import language_of
from digest.settings import get_settings


@app.command()
def summarize(page: str = typer.Argument(..., metavar="PATH_OR_URL",
                                         help="A saved HTML page, or an http(s) URL to fetch.")) -> None:
    """Print the title and the summary of an article page, as the curator would write it."""
    if page.startswith(("http://", "https://")):
        try:
            result = fetch(page, limits_from(get_settings()))
        except FetchError as exc:
            fail(str(exc))
        html, url = result.content or b"", result.url
    elif Path(page).is_file():
        html, url = Path(page).read_bytes(), None
    else:
        fail(f"{page}: neither a file nor an http(s) URL")
    article = extract_article(html, url)
    if article is None:
        fail(f"{page}: no article text found on the page")
    summary = summarise(article.text, description=article.description, title=article.title,
                        language=language_of(None, article.title, article.text))
    say(article.title)
    say("")
    say(summary.text)
    say(f"\n({summary.words} words, from the {_SOURCES[summary.method]})")


_SOURCES = {"description": "page's own description", "lead": "article's lead sentences",
            "cut": "article's first sentence, shortened"}
