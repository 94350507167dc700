"""The language of a story, and what matching titles and reading dates need to know of it.

A feed usually declares its language (RSS <language>, Atom xml:lang, JSON Feed "language");
when it does not, py3langid (a small model shipped in the package, nothing downloaded)
tells it from the title and text. Near-duplicate titles are compared with the function
words of their language; dates that feedparser cannot read because their month or day
names are not English ("Mi, 02 Dez 2026 07:00:00 +0100", "2 décembre 2026") are read by
dateparser in that language.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import lru_cache

# The languages with their own function words and sentence rules; others are still detected
# and stored, and matched without stop words (stricter, never looser).
SUPPORTED = ("en", "de", "fr", "es", "it", "pt", "nl")
# Below this probability a detection is a guess: short or mixed text. Then the story has no
# language and is treated as English, as every story was before languages were told apart.
MIN_CONFIDENCE = 0.5
DETECT_CHARS = 1000
MAX_DATE_CHARS = 100  # a date, not a paragraph handed to a slow parser
_CODE = re.compile(r"^\s*([a-zA-Z]{2,3})(?:[-_][a-zA-Z0-9]{1,8})*\s*$")

# Words whose addition or removal does not change what a headline says: articles,
# prepositions, conjunctions, auxiliaries. Not the full stop lists of search engines: those
# hold negations ("nicht", "pas", "não") and quantities, which do change it. Written as
# `title_key` leaves them: lowercase, accents dropped.
STOPWORDS: dict[str, frozenset[str]] = {language: frozenset(words.split()) for language, words in {
    "en": "a an the of in on at to for and or with by from as is are was were be been its it "
          "this that these those into over after before about new now",
    "de": "der die das den dem des ein eine einer eines einem einen und oder mit von vom zu zum "
          "zur im in am an auf aus bei fur nach uber unter vor um ist sind war waren wird werden "
          "wurde hat haben sich es als auch jetzt neue neuer neues",
    "fr": "le la les l un une des du de d au aux et ou avec par pour sur dans en a est sont "
          "etait ete sera se s ce cette ces qui que qu apres avant nouveau nouvelle",
    "es": "el la los las un una unos unas de del al y o con por para en a es son fue ser ha han "
          "se su sus este esta estos estas que tras ante sobre nuevo nueva",
    "it": "il lo la i gli le un uno una di del della dei delle dello al alla ai alle da dal ha hanno "
          "dalla in nel nella nei su sul sulla e o con per a ad e stato sono era si che dopo "
          "prima nuovo nuova",
    "pt": "o a os as um uma uns umas de do da dos das no na nos nas ao aos e ou com por para "
          "em pelo pela e sao foi ser se que apos antes sobre novo nova",
    "nl": "de het een en of met van in op aan te voor door bij uit naar over is zijn was waren "
          "wordt worden werd heeft hebben zich dat die deze dit na nu nieuwe nieuw",
}.items()}
NO_STOPWORDS: frozenset[str] = frozenset()
# Words that turn a headline around ("stimmt zu" / "stimmt nicht zu"): two titles name the
# same story only with the same ones, however close they are otherwise.
NEGATIONS: dict[str, frozenset[str]] = {language: frozenset(words.split()) for language, words in {
    "en": "not no never",
    "de": "nicht kein keine keinen keiner keinem nie",
    "fr": "ne n pas jamais aucun aucune",
    "es": "no nunca ningun ninguna",
    "it": "non mai nessun nessuna",
    "pt": "nao nunca nenhum nenhuma",
    "nl": "niet geen nooit",
}.items()}


def declared(code: object) -> str | None:
    """The primary language subtag of a declared language ("de-DE", "pt_BR", "EN"), or None."""
    match = _CODE.match(code) if isinstance(code, str) else None
    return match.group(1).lower() if match else None


def detect(text: str) -> str | None:
    """The language of `text` when the model is confident, else None."""
    sample = " ".join(text.split())[:DETECT_CHARS]
    if not sample:
        return None
    language, probability = _identifier().classify(sample)
    return language if probability >= MIN_CONFIDENCE else None


def language_of(declared_code: object, title: str, text: str) -> str | None:
    return declared(declared_code) or detect(f"{title}. {text}")


def stopwords(language: str | None) -> frozenset[str]:
    return STOPWORDS.get(language or "en", NO_STOPWORDS)


def negations(words: list[str], language: str | None) -> list[str]:
    return [word for word in words if word in NEGATIONS.get(language or "en", NO_STOPWORDS)]


def localized_date(text: str | None, language: str | None) -> datetime | None:
    """A date written with month or day names in one of SUPPORTED (the feed's language if it
    is one, else any of them), as aware UTC; None if it is no date."""
    if not text or not text.strip() or len(text) > MAX_DATE_CHARS:
        return None
    import dateparser  # imported on first use: most dates are read by feedparser

    languages = [language] if language in SUPPORTED else list(SUPPORTED)
    try:
        found = dateparser.parse(text, languages=languages, settings={
            "TIMEZONE": "UTC", "TO_TIMEZONE": "UTC", "RETURN_AS_TIMEZONE_AWARE": True,
            # No "relative-time": "vor 2 Stunden" would depend on when the feed is read.
            "PARSERS": ["timestamp", "custom-formats", "absolute-time"]})
        return found.astimezone(UTC) if found else None
    except (ValueError, OverflowError):
        return None


@lru_cache(maxsize=1)
def _identifier():
    # Loading the model takes about a second: only when a feed does not declare its language.
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


