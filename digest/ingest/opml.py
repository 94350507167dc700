"""Reading lists in and out: OPML import (folders become sections) and OPML 2.0 export.

Parsed by defusedxml, the same stance as the feeds (no entity is ever expanded, nothing is
fetched), but stricter: a document declaring entities is refused whole, and so is one that is
not well-formed, naming the line. listparser, the maintained OPML reader, does not fit: it
parses through lxml's HTML parser in recover mode, so a broken file is read part-way without
a word, and it merges repeated outlines before they could be reported.

An import checks the whole file before it writes anything, adds each feed once (by its
normalised URL, against the stored sources and the file's earlier outlines) through
`add_source`, so a feed is refused for the same reasons as by `digest sources add`, and
reports every feed outline's outcome. A second import of the same file adds nothing.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from xml.etree.ElementTree import Element, ParseError, SubElement, indent, tostring

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException
from sqlmodel import Session, select

from digest.ingest.clean import canonical_url, inert_text
from digest.ingest.network import AddressPolicy
from digest.ingest.sources import SourceError, add_source
from digest.models import DigestList, Source

DEFAULT_SECTION = "news"
MAX_BYTES = 5 * 1024 * 1024  # a reading list of tens of thousands of feeds
MAX_NAME_CHARS = 200
# Our own attributes on a feed outline, so an export imports back with the same weight and
# polling interval; other readers ignore attributes they do not know.
NAMESPACE = "urn:x-digest:opml"
_WEIGHT, _EVERY = f"{{{NAMESPACE}}}weight", f"{{{NAMESPACE}}}every-minutes"
_NOT_SLUG = re.compile(r"[^a-z0-9]+")


class OpmlError(ValueError):
    """The file as a whole cannot be imported; nothing was written."""


@dataclass(frozen=True)
class FeedOutline:
    url: str
    title: str
    section: str
    weight: float = 1.0
    every_minutes: int = 60
    problem: str = ""       # our attributes unreadable: the feed is refused, saying why


@dataclass(frozen=True)
class OutlineOutcome:
    outline: FeedOutline
    outcome: str            # "added", "already present" or "refused"
    reason: str = ""        # why refused, or where it was present already
    source_id: int | None = None


def read_opml(data: bytes) -> list[FeedOutline]:
    """Every feed outline of an OPML document, in document order; OpmlError if it is not one."""
    if len(data) > MAX_BYTES:
        raise OpmlError(f"larger than the {MAX_BYTES}-byte limit")
    try:
        root = SafeET.fromstring(data)
    except DefusedXmlException as exc:
        raise OpmlError(f"refused: the document declares XML entities or a DTD ({exc})") from None
    except ParseError as exc:
        raise OpmlError(f"not well-formed XML ({exc})") from None
    if root.tag != "opml":
        raise OpmlError(f"not an OPML document: its root element is <{root.tag}>, not <opml>")
    body = root.find("body")
    if body is None:
        raise OpmlError("not an OPML document: no <body>")
    found: list[FeedOutline] = []
    _walk(body, found)
    return found


def _walk(body: Element, found: list[FeedOutline]) -> None:
    """Feed outlines depth first, in document order; by a stack, not recursion: a file may
    nest outlines deeper than Python's recursion limit."""
    stack = [(iter(body.findall("outline")), [])]
    while stack:
        outline = next(stack[-1][0], None)
        if outline is None:
            stack.pop()
            continue
        folders = stack[-1][1]
        # Names are plain text as written (an operator's "<b>" stays), without controls.
        title = " ".join(inert_text(outline.get("title") or outline.get("text") or "").split())
        url = _attribute(outline, "xmlurl")
        if url is not None:
            found.append(_feed(outline, url, title, folders))
        # A feed's children are walked too (some readers nest feeds), in its folder.
        stack.append((iter(outline.findall("outline")),
                      folders if url is not None else [*folders, title]))


def _feed(outline: Element, url: str, title: str, folders: list[str]) -> FeedOutline:
    name = title or inert_text(url).strip()  # from title, else text, else the URL
    values, problems = {}, []
    for field_name, attribute, kind in (("weight", _WEIGHT, float), ("every_minutes", _EVERY, int)):
        text = outline.get(attribute)
        try:
            if text is not None:
                values[field_name] = kind(text)
        except ValueError:
            problems.append(f"{attribute.split('}')[1]}: {text!r} is not a number")
    return FeedOutline(url=url.strip(), title=name[:MAX_NAME_CHARS].strip(),
                       section=section_for(folders), problem="; ".join(problems), **values)


def _attribute(outline: Element, name: str) -> str | None:
    """OPML names it xmlUrl; some exporters write xmlurl or XMLURL."""
    return next((value for key, value in outline.attrib.items() if key.lower() == name), None)


def section_for(folders: list[str]) -> str:
    """The section slug of a folder path: "World" > "Europe" is world-europe; outside any
    folder, or a folder name without letters or digits of the Latin alphabet, "news"."""
    parts = []
    for folder in folders:
        ascii_name = unicodedata.normalize("NFKD", folder).encode("ascii", "ignore").decode()
        if slug := _NOT_SLUG.sub("-", ascii_name.lower()).strip("-"):
            parts.append(slug)
    return "-".join(parts)[:64].strip("-") or DEFAULT_SECTION


def import_opml(session: Session, data: bytes, *, policy: AddressPolicy | None = None,
                ) -> list[OutlineOutcome]:
    """Add the document's feeds as sources, each once; every feed outline's outcome in order.
    OpmlError (before anything is written) if the document cannot be read."""
    outlines = read_opml(data)
    present = {canonical_url(url): source_id for url, source_id in
               session.exec(select(Source.url, Source.id)).all()}
    outcomes = []
    for outline in outlines:
        key = canonical_url(outline.url)
        if outline.problem:
            outcomes.append(OutlineOutcome(outline, "refused", outline.problem))
            continue
        if key in present:
            outcomes.append(OutlineOutcome(outline, "already present", source_id=present[key]))
            continue
        try:
            # Nested savepoint: a refusal raised after the insert began leaves nothing behind.
            with session.begin_nested():
                source = add_source(session, url=outline.url, name=outline.title,
                                    section=outline.section, weight=outline.weight,
                                    every_minutes=outline.every_minutes, policy=policy)
        except SourceError as exc:
            outcomes.append(OutlineOutcome(outline, "refused", str(exc)))
            continue
        present[key] = source.id
        outcomes.append(OutlineOutcome(outline, "added", source_id=source.id))
    return outcomes


def sections_no_list_takes(session: Session, outcomes: list[OutlineOutcome]) -> list[str]:
    """Sections of the added feeds that no list picks from: a list that names its sections
    takes a new one only once an operator adds it (a list naming none takes every section)."""
    lists = session.exec(select(DigestList.sections)).all()
    if any(not sections for sections in lists):
        return []
    taken = {section for sections in lists for section in sections}
    return sorted({o.outline.section for o in outcomes if o.outcome == "added"} - taken)


def export_opml(session: Session, *, title: str = "digest sources") -> bytes:
    """OPML 2.0 of every feed source (http(s); local files are not feeds to share), one
    folder per section, which `import_opml` reads back to the same sources."""
    opml = Element("opml", {"version": "2.0", "xmlns:digest": NAMESPACE})
    SubElement(SubElement(opml, "head"), "title").text = title
    body = SubElement(opml, "body")
    folders: dict[str, Element] = {}
    for source in session.exec(select(Source).where(Source.url.startswith("http"))
                               .order_by(Source.section, Source.id)).all():
        if source.section not in folders:
            folders[source.section] = SubElement(body, "outline",
                                                 {"text": source.section, "title": source.section})
        SubElement(folders[source.section], "outline", {
            "type": "rss", "text": source.name, "title": source.name, "xmlUrl": source.url,
            "digest:weight": f"{source.weight:g}",
            "digest:every-minutes": str(source.poll_interval_minutes)})
    indent(opml)
    return tostring(opml, encoding="utf-8", xml_declaration=True) + b"\n"
