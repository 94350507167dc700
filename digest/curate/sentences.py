"""Sentence splitting per language: NLTK's Punkt with hand-set parameters, nothing downloaded.

Punkt's trained models are NLTK data, fetched at run time, which a worker must never do;
without them Punkt knows no abbreviations. So each language gets the abbreviations its
news uses, and the words that start a sentence after one ("... in the U.S. The talks";
Punkt learns those from data it does not have here). A language without its own table
(or a story whose language is unknown) is split by the English one.

Splitters that need no data (pysbd, sentencex) were tried: pysbd has no Portuguese, and
sentencex splits French and Dutch news after "M.", "déc.", "Mevr." and "o.a.".
"""

from __future__ import annotations

from functools import lru_cache

# Single letters cover initials ("John F. Kennedy") and the parts of "U.S." and "U.K.".
_INITIALS = set("abcdefghijklmnopqrstuvwxyz")
_COMMON = {"etc", "vs", "ca"}

# Abbreviations as Punkt compares them: lowercase, without the final period.
ABBREVIATIONS: dict[str, set[str]] = {
    "en": {
        "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "mt", "ft", "rev", "hon", "pres",
        "gov", "sen", "rep", "gen", "lt", "col", "maj", "capt", "cmdr", "sgt", "cpl", "adm", "supt",
        "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
        "mon", "tue", "tues", "wed", "thu", "thur", "thurs", "fri", "sat", "sun",
        "inc", "corp", "co", "ltd", "llc", "plc", "bros", "dept", "univ", "assn", "est",
        "v", "e.g", "i.e", "al", "approx", "no", "nos", "vol", "pp", "fig",
        "a.m", "p.m", "u.s", "u.k", "u.n", "e.u", "u.s.a", "d.c", "n.y", "l.a", "calif", "ariz",
        "fla", "mass", "penn", "wash", "tex", "ore", "conn", "ill", "mich", "minn", "wis",
    },
    # German writes ordinals with a period ("am 3. Dezember", "im 19. Jahrhundert"): as
    # abbreviations they end a sentence only before a sentence starter ("... auf 12. Die").
    "de": {
        *(str(n) for n in range(1, 100)), "dr", "prof", "hr", "fr", "frl", "nr", "str", "bzw", "usw", "evtl", "ggf",
        "vgl", "z.b", "u.a", "d.h", "o.ä", "u.ä", "s.o", "v.a", "z.t", "i.d.r", "inkl", "exkl",
        "zzgl", "mio", "mrd", "tsd", "jh", "abs", "art", "bsp", "geb", "gest", "st", "std", "tel",
        "jan", "feb", "mär", "apr", "jun", "jul", "aug", "sep", "sept", "okt", "nov", "dez",
        "mo", "di", "mi", "do", "sa", "so", "gmbh", "co", "kg",
    },
    "fr": {
        "m", "mm", "mme", "mmes", "mlle", "mlles", "dr", "pr", "me", "st", "ste", "av", "bd", "env",
        "cf", "c.-à-d", "p.ex", "vol", "n°", "no", "janv", "févr", "fév", "avr", "juil", "sept",
        "oct", "nov", "déc", "lun", "mar", "mer", "jeu", "ven", "sam", "dim", "cie", "sa",
    },
    "es": {
        "sr", "sra", "srta", "sres", "dr", "dra", "d", "dña", "ud", "uds", "lic", "ing", "av",
        "avda", "pág", "núm", "no", "ej", "p.ej", "ee.uu", "cía", "s.a", "ene", "feb", "mar",
        "abr", "may", "jun", "jul", "ago", "sep", "sept", "oct", "nov", "dic",
    },
    "it": {
        "sig", "sigg", "sig.ra", "dott", "dott.ssa", "prof", "ing", "avv", "on", "sen", "arch",
        "ecc", "pag", "n", "es", "s.p.a", "gen", "febbr", "mar", "apr", "magg", "giu", "lug",
        "ago", "sett", "ott", "nov", "dic",
    },
    "pt": {
        "sr", "sra", "srta", "dr", "dra", "prof", "eng", "av", "pág", "nº", "n", "ex", "s.a",
        "ltda", "jan", "fev", "mar", "abr", "mai", "jun", "jul", "ago", "set", "out", "nov", "dez",
    },
    "nl": {
        "dhr", "mevr", "mw", "mr", "dr", "drs", "ir", "prof", "ing", "bijv", "b.v", "bv", "blz",
        "d.w.z", "e.d", "enz", "evt", "m.a.w", "mln", "mld", "n.a.v", "o.a", "t.a.v", "t/m", "jan",
        "feb", "mrt", "apr", "jun", "jul", "aug", "sep", "sept", "okt", "nov", "dec",
    },
}
# After an abbreviation, a capitalised word from these starts a new sentence.
SENTENCE_STARTERS: dict[str, set[str]] = {language: set(words.split()) for language, words in {
    "en": "the a an he she it they we i you his her their its this that these those there but "
          "and then in on at as after before when while if however meanwhile still yet some "
          "many most officials police",
    "de": "der die das den dem ein eine er sie es wir ich man dies diese dieser dann doch aber "
          "und auch in im am nach laut zudem danach dabei damit deshalb trotzdem heute jetzt "
          "seit bei mit auf",
    "fr": "le la les un une il elle ils elles on nous je ce cette ces mais et en au selon pour",
    "es": "el la los las un una él ella ellos ellas se pero y en según para",
    "it": "il lo la i gli le un una egli lei loro si ma e in secondo per",
    "pt": "o a os as um uma ele ela eles elas se mas e em segundo para",
    "nl": "de het een hij zij ze wij we ik men dit deze dat die maar en in volgens",
}.items()}

# A title before a surname that starts with a particle which is also a sentence starter
# ("Mevr. De Vries", "M. Le Pen"): never a sentence end.
_TITLES_BEFORE_PARTICLES = {
    "nl": ("dhr mevr mw mr dr drs ir prof ing", "de het van den der ter te"),
    "fr": ("m mme mlle dr pr me", "le la les de du des"),
}
COLLOCATIONS: dict[str, set[tuple[str, str]]] = {
    language: {(title, particle) for title in titles.split() for particle in particles.split()}
    for language, (titles, particles) in _TITLES_BEFORE_PARTICLES.items()}


def split(paragraph: str, language: str | None = None) -> list[str]:
    """The sentences of one paragraph, by the rules of its language."""
    return _tokenizer(language if language in ABBREVIATIONS else "en").tokenize(paragraph)


@lru_cache(maxsize=len(ABBREVIATIONS))
def _tokenizer(language: str):
    # Imported on first use: importing nltk takes about a second, and most commands
    # (and every send worker) never summarise.
    from nltk.tokenize.punkt import PunktParameters, PunktSentenceTokenizer

    parameters = PunktParameters()
    parameters.abbrev_types = ABBREVIATIONS[language] | _INITIALS | _COMMON
    parameters.sent_starters = SENTENCE_STARTERS[language]
    parameters.collocations = COLLOCATIONS.get(language, set())
    return PunktSentenceTokenizer(parameters)
