"""Feeds in German, French, Spanish, Italian, Portuguese and Dutch: the language declared or
detected, localized dates read, near duplicates across two feeds found by that language's
rules, and negated headlines kept apart.

tests/ingest/languages/ holds two feeds per language, from two sites, in the formats and
habits found in the wild: RSS with <language> and pubDates in the language ("Di, 01 Dez
2026"), RSS that declares nothing ("1 décembre 2026 09:30"), Atom with and without
xml:lang, JSON Feed with "language" and without. In each pair the first story is one
story retold by the other site, the second is turned around ("stimmt nicht zu").
"""

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import select

from digest.ingest.dedupe import same_story_title, title_key
from digest.ingest.language import declared, detect, localized_date
from digest.ingest.parse import parse_feed
from digest.ingest.service import ingest_file
from digest.models import Story, StorySource
from tests.ingest.test_corpus import CORPUS, corpus

FEEDS = Path(__file__).parent / "languages"
PAIRS = {
    "de": ("de-tagesblatt.xml", "de-rundschau.atom"),
    "fr": ("fr-quotidien.xml", "fr-gazette.xml"),
    "es": ("es-diario.xml", "es-cronica.json"),
    "it": ("it-gazzetta.xml", "it-corriere.atom"),
    "pt": ("pt-folha.xml", "pt-jornal.xml"),
    "nl": ("nl-courant.xml", "nl-dagblad.json"),
}


@pytest.mark.parametrize("language", PAIRS)
def test_two_feeds_in_a_language_store_one_story_per_story(session, language):
    first, second = (FEEDS / name for name in PAIRS[language])
    assert ingest_file(session, first).added == 3
    report = ingest_file(session, second)
    session.commit()
    assert [outcome for outcome, _ in report.entries] == ["sighting", "new", "new"]

    stories = session.exec(select(Story).order_by(Story.id)).all()
    assert len(stories) == 5 and {story.language for story in stories} == {language}
    retold = stories[0]
    carriers = session.exec(select(StorySource.url).where(StorySource.story_id == retold.id)).all()
    assert len(carriers) == 2  # both sites' links kept as sightings of one story
    said, unsaid = (parse_feed(feed.read_bytes()).entries[1].title for feed in (first, second))
    titles = [story.title for story in stories]
    assert said in titles and unsaid in titles  # "adopts" and "does not adopt": two stories


@pytest.mark.parametrize("name, expected", [
    ("de-tagesblatt.xml", datetime(2026, 12, 1, 6, 0, tzinfo=UTC)),    # Di, 01 Dez 2026 07:00:00 +0100
    ("fr-quotidien.xml", datetime(2026, 12, 1, 7, 0, tzinfo=UTC)),     # mar., 01 déc. 2026 08:00:00 +0100
    ("fr-gazette.xml", datetime(2026, 12, 1, 9, 30, tzinfo=UTC)),      # 1 décembre 2026 09:30, undeclared
    ("es-diario.xml", datetime(2026, 12, 1, 8, 0, tzinfo=UTC)),        # mar, 01 dic 2026 09:00:00 +0100
    ("it-gazzetta.xml", datetime(2026, 12, 1, 9, 0, tzinfo=UTC)),      # mar, 01 dic 2026 10:00:00 +0100
    ("pt-folha.xml", datetime(2026, 12, 1, 10, 0, tzinfo=UTC)),        # Ter, 01 Dez 2026 07:00:00 -0300
    ("nl-courant.xml", datetime(2026, 12, 1, 10, 0, tzinfo=UTC)),      # di, 01 dec 2026 11:00:00 +0100
])
def test_dates_in_the_feeds_language_are_read(name, expected):
    entries = parse_feed((FEEDS / name).read_bytes()).entries
    assert entries[0].published_at == expected and entries[0].published_at.tzinfo is UTC
    assert all(entry.published_at for entry in entries)


def test_a_date_that_is_none_in_any_language_stays_none():
    assert localized_date("bald, irgendwann", "de") is None
    assert localized_date("vor 2 Stunden", "de") is None  # relative: it would depend on when read
    assert localized_date("1 " * 200, None) is None
    feed = (b'<rss version="2.0"><channel><title>t</title><item><title>Ohne Datum hier</title>'
            b'<link>https://x.example.de/1</link><pubDate>demn\xc3\xa4chst</pubDate></item></channel></rss>')
    assert parse_feed(feed).entries[0].published_at is None  # then first seen, as before


@pytest.mark.parametrize("name, language", [
    ("de-rundschau.atom", "de"),   # Atom xml:lang
    ("es-cronica.json", "es"),     # JSON Feed "language"
    ("pt-folha.xml", "pt"),        # RSS <language>pt-BR</language>
    ("fr-gazette.xml", "fr"),      # nothing declared: detected
    ("it-corriere.atom", "it"),
    ("nl-dagblad.json", "nl"),
])
def test_the_language_is_declared_or_detected(name, language):
    assert {e.language for e in parse_feed((FEEDS / name).read_bytes()).entries} == {language}


def test_an_atom_entry_language_beats_the_feeds_and_codes_are_normalised():
    feed = b"""<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en-GB">
      <title>t</title><id>https://x.example.org/</id>
      <entry xml:lang="nl-BE"><title>Een titel</title><link href="https://x.example.org/1"/><id>1</id></entry>
      <entry><title>A title</title><link href="https://x.example.org/2"/><id>2</id></entry></feed>"""
    assert [e.language for e in parse_feed(feed).entries] == ["nl", "en"]
    assert [declared(code) for code in ("de-DE", "pt_BR", "EN", " fr ", "", "x", 7, None)] == [
        "de", "pt", "en", "fr", None, None, None, None]
    assert detect("") is None and detect("Apple iPhone 17") is None  # too little to tell


@pytest.mark.parametrize("language, a, b", [
    ("de", "Bahn streicht Verbindungen nach Hamburg wegen Sturm",
     "Die Bahn streicht die Verbindungen nach Hamburg wegen des Sturms"),
    ("es", "El Gobierno aprueba la subida del salario mínimo",
     "Gobierno aprueba una subida del salario mínimo"),
    ("it", "Il governo approva la riforma delle pensioni",
     "Il Governo ha approvato la riforma delle pensioni"),
])
def test_near_duplicates_need_the_languages_function_words(language, a, b):
    assert same_story_title(title_key(a), title_key(b), language, language)
    assert not same_story_title(title_key(a), title_key(b))  # read as English, they differ


def test_spellings_without_umlauts_or_eszett_are_the_same_title():
    assert title_key("Straße in Köln gesperrt") == title_key("Strasse in Koln gesperrt")


@pytest.mark.parametrize("language, a, b", [
    ("de", "Bundestag stimmt dem Heizungsgesetz zu", "Bundestag stimmt dem Heizungsgesetz nicht zu"),
    ("fr", "Le Sénat adopte la réforme des retraites", "Le Sénat n'adopte pas la réforme des retraites"),
    ("es", "El Congreso aprueba la ley de vivienda", "El Congreso no aprueba la ley de vivienda"),
    ("it", "Il Senato approva la legge sul clima", "Il Senato non approva la legge sul clima"),
    ("pt", "Câmara aprova projeto de lei das fake news", "Câmara não aprova projeto de lei das fake news"),
    ("nl", "Tweede Kamer stemt in met klimaatwet", "Tweede Kamer stemt niet in met klimaatwet"),
    ("en", "Senate passes the climate bill in late vote", "Senate does not pass the climate bill in late vote"),
])
def test_a_negated_headline_is_another_story(language, a, b):
    assert not same_story_title(title_key(a), title_key(b), language, language)


@corpus
def test_corpus_portuguese_dates_and_german_feeds():
    uol = parse_feed((CORPUS / "rss-parser-feeds" / "uolNoticias.rss").read_bytes()).entries
    # "Seg, 24 Set 2018 19:42:40 -0300": feedparser reads no Portuguese; these were "first seen".
    assert uol[0].published_at == datetime(2018, 9, 24, 22, 42, 40, tzinfo=UTC)
    assert all(entry.published_at for entry in uol)
    assert {e.language for e in uol} - {None} == {"pt"}  # the feed's <language> is empty
    heise = parse_feed((CORPUS / "rss-parser-feeds" / "heise.atom").read_bytes()).entries
    assert {e.language for e in heise} == {"de"}
