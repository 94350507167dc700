"""Summary quality on real article pages (the shared mozilla-readability corpus).

For every English page: extract the main text (digest.ingest.article), summarise its lead
with the curator's summariser (the page's own description is NOT used here, since it is
usually the very excerpt we compare against), and print the summary and its length. The
summary line counts summaries of 20-70 words, ending at a sentence boundary and free of
boilerplate, and gives ROUGE-1 against the publisher's excerpt for the summariser and for
a naive baseline (the first 50 words of the extracted text).

    .venv/bin/python bench/summaries.py [CORPUS_DIR]
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from pathlib import Path

from digest import PROJECT_ROOT
from digest.curate.summarise import summarise, usable_description
from digest.ingest.article import extract_article

CORPUS = PROJECT_ROOT.parent / "shared" / "corpus" / "mozilla-readability"
ENGLISH_WORDS = {"the", "and", "of", "to", "in", "a", "is", "that", "for", "was"}
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_ENDS_SENTENCE = re.compile(r"[.!?][\"'\u201d\u2019)\]]*$")
# Checked independently of the summariser's own filter: furniture, markup and entities.
_FURNITURE = re.compile(
    r"^By\s|\b(?:READ|WATCH|Related|Topics|Updated)\s*:|\bsubscri(?:be|ption)\b|\bdonat|"
    r"\bsign up\b|\bnewsletter\b|\bphoto(?:graph)?\s*(?::|by\b)|getty|\bshare (?:this|on)\b|"
    r"advertisement|</?[a-z]+[\s>/]|&[a-z]+;|&#\d+;", re.IGNORECASE)


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def rouge1(candidate: str, reference: str) -> tuple[float, float, float]:
    """ROUGE-1 precision, recall and F1: clipped unigram overlap, lowercased, no stemming."""
    cand, ref = Counter(words(candidate)), Counter(words(reference))
    overlap = sum((cand & ref).values())
    if not overlap:
        return 0.0, 0.0, 0.0
    precision, recall = overlap / sum(cand.values()), overlap / sum(ref.values())
    return precision, recall, 2 * precision * recall / (precision + recall)


def is_english(metadata: dict, text: str) -> bool:
    if metadata.get("lang"):
        return metadata["lang"].lower().startswith("en")
    tokens = words(text)[:400]
    return bool(tokens) and sum(t in ENGLISH_WORDS for t in tokens) / len(tokens) > 0.12


def main(corpus: Path) -> None:
    if not corpus.is_dir():
        sys.exit(f"no corpus at {corpus}")
    rows = []
    for case in sorted(p for p in corpus.iterdir() if (p / "source.html").exists()):
        metadata = json.loads((case / "expected-metadata.json").read_text(encoding="utf-8"))
        article = extract_article((case / "source.html").read_bytes(), f"https://{case.name}.example/")
        if article is None or not is_english(metadata, article.text):
            continue
        summary = summarise(article.text, title=article.title)
        baseline = " ".join(article.text.split()[:50])
        excerpt = metadata.get("excerpt") or ""
        rows.append({
            "case": case.name, "summary": summary,
            "sentence_end": bool(_ENDS_SENTENCE.search(summary.text)),
            "clean": not _FURNITURE.search(summary.text),
            "baseline_end": bool(_ENDS_SENTENCE.search(baseline)),
            "baseline_clean": not _FURNITURE.search(baseline),
            "ours": rouge1(summary.text, excerpt), "baseline": rouge1(baseline, excerpt),
            "description": usable_description(article.description, article.title) is not None,
        })
        print(f"== {case.name} ({summary.words} words, {summary.method})\n   {summary.text}\n")

    count = len(rows)
    in_range = sum(20 <= r["summary"].words <= 70 for r in rows)
    ends = sum(r["sentence_end"] for r in rows)
    clean = sum(r["clean"] for r in rows)
    good = sum(20 <= r["summary"].words <= 70 and r["sentence_end"] and r["clean"] for r in rows)
    print(f"{count} English pages: {in_range} summaries of 20-70 words, {ends} end at a "
          f"sentence boundary, {clean} without boilerplate; {good} all three")
    print(f"baseline (first 50 words): {sum(r['baseline_end'] for r in rows)} end at a sentence "
          f"boundary, {sum(r['baseline_clean'] for r in rows)} without boilerplate")
    for name in ("ours", "baseline"):
        p, r, f = (sum(row[name][i] for row in rows) / count for i in range(3))
        label = "lead summariser" if name == "ours" else "first 50 words "
        print(f"ROUGE-1 vs publisher excerpt, {label}: P {p:.3f}  R {r:.3f}  F1 {f:.3f}")
    better = sum(r["ours"][2] > r["baseline"][2] for r in rows)
    print(f"summariser F1 above baseline on {better}/{count} pages; "
          f"{sum(r['description'] for r in rows)} pages carry a description the curator would use")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else CORPUS)
