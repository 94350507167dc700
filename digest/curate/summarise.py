"""Extractive summaries for news: the publisher's own summary when it is one, else the lead.

On news the lead sentences beat graph summarisers (FIELD-NOTES), so the summary is the
first sentences of the article's body after the boilerplate that sites wrap around it
(bylines, "READ: ..." links, subscribe and donate promos, photo captions, share buttons)
is dropped, cut at a sentence boundary to MIN_WORDS..MAX_WORDS words. Sentences are split
by the rules of the story's language (`digest.curate.sentences`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from digest.curate.sentences import split
from digest.ingest.clean import plain_text

MIN_WORDS = 40
MAX_WORDS = 60
# Still short of MIN_WORDS, one more whole sentence may take the summary up to this.
HARD_MAX_WORDS = 70
# A publisher's description shorter than this is a teaser, not a summary.
DESCRIPTION_MIN_WORDS = 12
# A line this short without closing punctuation is a heading, byline or caption.
HEADING_MAX_WORDS = 25

# Whole paragraphs (or sentences) that are page furniture, not the story.
_BOILERPLATE = re.compile(
    r"""^(?:
        (?:read|watch|listen|see|more|related|also\ read|read\ more|recommended|trending
         |topics|tags|filed\ under|reviewed\ by)\s*[:\-\u2013\u2014|>]
      | \[.*\]$
      | (?:advertisement|sponsored(?:\ content)?|story\ continues\ below.*|continue\ reading.*|skip\ to.*)$
      | (?:updated|published|posted|last\ (?:updated|modified))\b.{0,80}$
      | (?:photo(?:graph)?|image|picture|video|caption|credit|illustration|file\ photo)s?\s*(?:\:|by\b|credit|copyright|caption)
      | (?:share|tweet|e-?mail|print|save|copy\ link|facebook|twitter|whatsapp|linkedin|pinterest|reddit)
        (?:\s+(?:this|on|via|article|story|link|page|facebook|twitter|e-?mail|whatsapp|linkedin|pinterest|reddit|messenger|print|comments?))*\s*$
      | by\s+[\w.'\u2019-]+(?:\s+[\w.'\u2019-]+){0,3}(?:\s*(?:,|and|&)\s*[\w.'\u2019-]+(?:\s+[\w.'\u2019-]+){0,3}){0,3}\s*(?:,\s*[\w .]+)?$
    )""",
    re.IGNORECASE | re.VERBOSE,
)
# Calls to action anywhere in a paragraph: such a paragraph is a promo.
_PROMO = re.compile(
    r"\b(?:subscribe\s+(?:to|now|today|for)|sign\s+up\s+(?:for|to|here|now)|our\s+newsletter"
    r"|donate\s+(?:to\s+us|now|today|here)|please\s+donate|support\s+our\s+journalism"
    r"|become\s+a\s+(?:member|subscriber|supporter)|click\s+here|follow\s+us\s+on"
    r"|appeared\s+first\s+on|in\s+your\s+inbox|all\s+rights\s+reserved|getty\s+images|ap\s+photo"
    r"|\(photo(?:graph)?\s*(?:by|:)|\bphotograph:|image\s+(?:copyright|caption))",
    re.IGNORECASE,
)
# "WASHINGTON (Reuters) - ", "(CNN) --", "Feb. 23, 2015 -- ": datelines are not the story.
_DATELINE = re.compile(
    r"^(?:[A-Z][A-Z .,'-]{1,40}|[A-Z][a-z]{2,8}\.? \d{1,2}(?:, \d{4})?)?\s*"
    r"(?:\([A-Za-z .]{1,30}\))?\s*(?:--|[-\u2013\u2014])\s+")
# Feed descriptions often end in a link back: "Continue reading...", "[...]", "Read more".
_TRAILER = re.compile(
    r"(?:\s*(?:\[\s*(?:\.\.\.|\u2026)\s*\]|continue\s+reading.*|read\s+more.*|the\s+post\s+.*"
    r"appeared\s+first\s+on.*))$", re.IGNORECASE)
_SENTENCE_END = re.compile(r"[.!?][\"'\u201d\u2019)\]]*$")


@dataclass(frozen=True)
class Summary:
    text: str
    method: str  # "description" (the publisher's own), "lead" (first sentences) or "cut"

    @property
    def words(self) -> int:
        return len(self.text.split())


def paragraphs(text: str) -> list[str]:
    """The text's prose paragraphs, as plain text.

    A line that continues a sentence (the previous line has no closing punctuation and
    this one starts in lower case) is joined to it: some pages hard-wrap their text.
    Page furniture is dropped, and so are short lines without closing punctuation:
    headings, bylines, captions and labels.
    """
    joined: list[str] = []
    for line in (text or "").splitlines():
        line = plain_text(line)
        if joined and line[:1].islower() and not _SENTENCE_END.search(joined[-1]):
            joined[-1] += " " + line
        elif line:
            joined.append(line)
    return [p for p in joined if not is_boilerplate(p)
            and (_SENTENCE_END.search(p) or len(p.split()) > HEADING_MAX_WORDS)]


def is_boilerplate(paragraph: str) -> bool:
    return bool(_BOILERPLATE.match(paragraph) or _PROMO.search(paragraph))


def sentences(text: str, language: str | None = None) -> list[str]:
    """Sentences of every real paragraph, in order; abbreviations (Mr., U.S., Jan., z.B.,
    M.) and German ordinals (3. Dezember) kept whole."""
    found = []
    for paragraph in paragraphs(text):
        for sentence in split(paragraph, language):
            sentence = sentence.strip()
            if sentence and not is_boilerplate(sentence):
                found.append(sentence)
    return found


def summarise(text: str, *, description: str = "", title: str = "",
              language: str | None = None) -> Summary:
    """The summary the curator uses: a real publisher description, else the article's lead."""
    if real := usable_description(description, title, language):
        return real
    return lead(text, language)


def usable_description(description: str, title: str = "",
                       language: str | None = None) -> Summary | None:
    """The publisher's description if it is a real summary: whole sentences, long enough,
    not the headline again, not a truncated teaser and not a promo."""
    cleaned = _TRAILER.sub("", plain_text(description)).strip()
    words = len(cleaned.split())
    if words < DESCRIPTION_MIN_WORDS or words > 2 * HARD_MAX_WORDS:
        return None  # a teaser, or the whole article in the description field
    if cleaned.rstrip(".\u2026 ") == plain_text(title).rstrip(".\u2026 "):
        return None
    if cleaned.endswith(("...", "\u2026")) or not _SENTENCE_END.search(cleaned):
        return None  # cut off by the feed
    if is_boilerplate(cleaned):
        return None
    fitted = lead(cleaned, language)
    return Summary(fitted.text, "description") if fitted.method == "lead" else None


def lead(text: str, language: str | None = None) -> Summary:
    """Whole lead sentences: at least MIN_WORDS where the text allows, at most MAX_WORDS
    (HARD_MAX_WORDS while the summary is still under half of MIN_WORDS). A first sentence
    too long for that is cut at a clause or word boundary and marked with an ellipsis."""
    chosen: list[str] = []
    count = 0
    for index, sentence in enumerate(sentences(text, language)):
        if index == 0:
            sentence = _DATELINE.sub("", sentence)
        words = len(sentence.split())
        if not chosen and words > HARD_MAX_WORDS:
            return Summary(_cut(sentence), "cut")
        if count + words > (MAX_WORDS if count >= MIN_WORDS // 2 else HARD_MAX_WORDS):
            break
        chosen.append(sentence)
        count += words
        if count >= MIN_WORDS:
            break
    return Summary(" ".join(chosen), "lead")


def _cut(sentence: str) -> str:
    """At most MAX_WORDS words, ending at the last clause break when there is one."""
    head = " ".join(sentence.split()[:MAX_WORDS])
    clause = max(head.rfind(mark) for mark in (",", ";", ":", " \u2014", " -"))
    if clause > len(head) // 2:
        head = head[:clause]
    return head.rstrip(" ,;:-\u2014") + "\u2026"
