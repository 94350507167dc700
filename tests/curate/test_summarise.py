"""The summariser: lead sentences, boilerplate dropped, abbreviations kept whole."""

import json
import re

from digest import PROJECT_ROOT
from digest.curate.summarise import (
    HARD_MAX_WORDS, MAX_WORDS, is_boilerplate, lead, sentences, summarise, usable_description,
)
from digest.ingest.article import extract_article

CORPUS = PROJECT_ROOT.parent / "shared" / "corpus" / "mozilla-readability"

ARTICLE = """By Jane Doe and John Roe, Harbour Herald

WASHINGTON (Reuters) - Mr. Smith arrived in Washington on Jan. 5 with the U.S. delegation \
for talks on the river treaty. He met Sen. Alvarez at 9 a.m. and the talks ran late.

Share this article

Photo: The delegation arrives. (Photo by Ann Lee/Getty Images)

READ: Five things to know about the treaty

The U.S. said no. Officials expect another round next month in Geneva, where both \
sides have agreed to bring engineers as well as diplomats.

Subscribe to our newsletter for the latest on the treaty.

A decision is expected in the spring, when the flood season begins again."""


def test_sentences_keep_abbreviations_whole_and_split_after_them_when_a_new_one_starts():
    found = sentences("Mr. Smith met Dr. Jones in the U.S. on Jan. 5 at 9 a.m. and left. "
                      "The U.S. said no. Then it rained in Washington, D.C. on Tuesday. "
                      "John F. Kennedy Jr. was not there.")
    assert found == [
        "Mr. Smith met Dr. Jones in the U.S. on Jan. 5 at 9 a.m. and left.",
        "The U.S. said no.",
        "Then it rained in Washington, D.C. on Tuesday.",
        "John F. Kennedy Jr. was not there.",
    ]


def test_lead_skips_bylines_datelines_promos_captions_and_share_text():
    summary = summarise(ARTICLE)
    assert summary.method == "lead"
    assert summary.text.startswith("Mr. Smith arrived in Washington on Jan. 5")
    for furniture in ("By Jane", "Reuters", "Share", "Photo", "Getty", "READ", "Subscribe"):
        assert furniture not in summary.text
    assert 40 <= summary.words <= MAX_WORDS
    assert summary.text.endswith(".")


def test_lead_stops_at_a_sentence_boundary_near_the_target():
    text = " ".join(f"Sentence number {n} has exactly seven words." for n in range(30))
    summary = lead(text)
    assert summary.words == 42  # six sentences: the first count of at least 40 words
    assert summary.text.endswith("words.")


def test_an_overlong_first_sentence_is_cut_at_a_word_never_mid_word():
    text = "The council voted " + ", ".join(f"item{n} passed" for n in range(60)) + "."
    summary = lead(text)
    assert summary.method == "cut"
    assert summary.words <= MAX_WORDS and summary.text.endswith("\u2026")
    assert all(re.fullmatch(r"item\d+|passed|The|council|voted", w.strip(",\u2026"))
               for w in summary.text.split())


def test_markup_and_entities_never_reach_the_summary():
    summary = summarise("<p>Rates rose by 0.25 points &amp; markets <b>fell</b> sharply on "
                        "Tuesday, traders said.</p>")
    assert summary.text == "Rates rose by 0.25 points & markets fell sharply on Tuesday, traders said."


def test_a_real_description_is_used_and_a_teaser_or_truncated_one_is_not():
    text = "The lead sentence of the article body is about the bridge and it is quite long."
    real = ("The bridge reopened after two years of repairs, with a new cycle lane and "
            "wider footpaths on both sides.")
    assert summarise(text, description=real).method == "description"
    assert summarise(text, description=real).text == real
    assert usable_description("Read our live coverage", "Bridge") is None
    assert usable_description(real[:70] + "...", "Bridge") is None
    assert usable_description(real + " The post Bridge appeared first on Herald.", "") is not None
    assert usable_description("Subscribe to our newsletter for the daily briefing on the "
                              "bridge and everything else.", "") is None
    assert summarise(text, description="The bridge").method == "lead"


def test_boilerplate_recognition():
    for furniture in ("By Jane Doe", "Advertisement", "Share on Facebook", "READ: More news",
                      "Photo: AP", "Updated 10:32 AM ET, Thu April 5, 2018",
                      "Please donate today to keep us going.", "Topics: uber, sydney"):
        assert is_boilerplate(furniture), furniture
    assert not is_boilerplate("By noon the river had risen two metres above its banks.")
    assert not is_boilerplate("Readers asked how the subscription model works.")


def test_every_english_corpus_page_gets_a_clean_summary_of_whole_sentences():
    """The real-world pages of the shared corpus, when present (bench/summaries.py scores them)."""
    cases = sorted(p for p in CORPUS.glob("*/expected-metadata.json")) if CORPUS.is_dir() else []
    english = [p.parent for p in cases
               if (json.loads(p.read_text(encoding="utf-8")).get("lang") or "").startswith("en")]
    if not english:  # without the corpus, a constructed page stands in
        body = "".join(f"<p>{paragraph}</p>" for paragraph in ARTICLE.split("\n\n"))
        page = f"<html><body><article><h1>Talks</h1>{body}</article></body></html>"
        summary = summarise(extract_article(page.encode()).text)
        assert summary.text.startswith("Mr. Smith")
        return
    for case in english:
        article = extract_article((case / "source.html").read_bytes(), "https://example.org/")
        summary = summarise(article.text, title=article.title)
        assert 15 <= summary.words <= HARD_MAX_WORDS, (case.name, summary)
        assert not is_boilerplate(summary.text), (case.name, summary)
        assert "<" not in summary.text and "&amp;" not in summary.text, case.name


# Lead paragraphs in the style of each language's news, with its abbreviations, initials
# and (German) ordinal dates: the summary is whole sentences, none cut after "M." or "3.".
LEADS = {
    "de": ("Die Deutsche Bahn hat am 3. Dezember alle Fernzüge zwischen Hamburg und Berlin "
           "gestrichen. Laut Dr. Meier gilt das u.a. für die Sprinter, bis ca. 18 Uhr. Der "
           "Sturm soll erst am 4. Dezember nachlassen, sagte ein Sprecher des Wetterdienstes. "
           "Reisende sollen ihre Fahrt verschieben."),
    "fr": ("Le Sénat a adopté mardi la réforme des retraites par 190 voix contre 140. Selon "
           "M. Martin, rapporteur du texte, et Mme Dupont, le vote a été acquis après trois "
           "jours de débats, c.-à-d. plus que prévu. Le texte revient à l'Assemblée en janv. "
           "prochain. Les syndicats appellent à manifester."),
    "es": ("El Gobierno aprobó el martes la subida del salario mínimo. La Sra. Díaz y el "
           "Dr. López defendieron la medida ante el Congreso durante más de dos horas de "
           "debate. La oposición, según EE.UU. y la patronal, teme efectos sobre el empleo "
           "joven. La subida entra en vigor en enero."),
    "it": ("Il governo ha approvato la riforma delle pensioni. Il sig. Rossi e il dott. "
           "Bianchi, dei sindacati, hanno criticato il testo in una lunga conferenza stampa "
           "a Roma, ecc. Il voto finale è previsto per la prossima settimana alla Camera dei "
           "deputati. Le opposizioni annunciano battaglia."),
    "pt": ("O governo aprovou nesta terça-feira a reforma da previdência. Segundo o Sr. Silva "
           "e a Dra. Costa, a economia chegará a um valor recorde nos próximos dez anos de "
           "vigência da nova regra. O texto segue agora para o Senado, que deve votar em "
           "dezembro. Sindicatos prometem protestos."),
    "nl": ("Het kabinet heeft nieuwe regels voor huurwoningen aangenomen. Volgens mevr. De "
           "Vries en dhr. Jansen profiteren o.a. studenten en starters van de maatregelen, "
           "d.w.z. vooral in de grote steden. De regels gaan op 1 januari in en gelden voor "
           "alle huurwoningen. De oppositie is kritisch."),
}


def test_sentences_follow_the_language_of_the_story():
    for language, text in LEADS.items():
        found = sentences(text, language)
        assert len(found) == 4, (language, found)
        assert all(len(sentence.split()) >= 3 for sentence in found), (language, found)
    german = sentences(LEADS["de"], "de")
    assert german[0].endswith("am 3. Dezember alle Fernzüge zwischen Hamburg und Berlin gestrichen.")
    # A title before a surname whose particle also starts sentences ("De", "Le") ends none.
    assert sentences("Selon M. Le Pen, rien ne change. Le vote a lieu demain.", "fr") == [
        "Selon M. Le Pen, rien ne change.", "Le vote a lieu demain."]
    # Read with the English rules, "M." and "3." end sentences.
    assert len(sentences(LEADS["fr"])) > 4 and len(sentences(LEADS["de"])) > 4


def test_summaries_in_each_language_are_whole_sentences():
    for language, text in LEADS.items():
        summary = summarise(text, language=language)
        assert summary.method == "lead" and summary.text.endswith("."), (language, summary)
        assert summary.text in " ".join(sentences(text, language)), language
        assert 20 <= summary.words <= HARD_MAX_WORDS, (language, summary)


def test_corpus_pages_in_other_languages_get_a_clean_summary_of_whole_sentences():
    """lemonde, liberation (fr), heise (de), folha (pt) of the shared corpus, when present."""
    cases = sorted(p for p in CORPUS.glob("*/expected-metadata.json")) if CORPUS.is_dir() else []
    languages = {p.parent: (json.loads(p.read_text(encoding="utf-8")).get("lang") or "")[:2]
                 for p in cases}
    for case, language in languages.items():
        if language not in LEADS:
            continue
        article = extract_article((case / "source.html").read_bytes(), "https://example.org/")
        summary = summarise(article.text, title=article.title, language=language)
        assert 15 <= summary.words <= HARD_MAX_WORDS, (case.name, summary)
        assert summary.text.endswith((".", "!", "?", "\u2026")), (case.name, summary)
        assert "<" not in summary.text and "&amp;" not in summary.text, case.name
