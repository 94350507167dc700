"""Building the bytes of a mail, once per variant and cheaply per subscriber.

Serialising an ``EmailMessage`` costs 7-12 ms; doing it per subscriber would cost more than
the SMTP exchange. So a :class:`MailTemplate` holds everything that is the same for a
variant, with both body parts already quoted-printable encoded and cut at the personal
tokens; :meth:`MailTemplate.assemble` only encodes the few personal values, joins the
pieces and prebuilt header lines. Lines end in CRLF: ``smtplib.sendmail`` sends bytes as
they are.
"""

from __future__ import annotations

import binascii
import hashlib
import re
from dataclasses import dataclass
from email.header import Header
from email.utils import formataddr, formatdate, parseaddr
from urllib.parse import quote

from digest.mail.dkim import DKIMSigner
from digest.render.digest import TOKENS, Personal, Rendered, personalise

_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


@dataclass(frozen=True)
class OutgoingMessage:
    sender: str        # envelope sender (bare address)
    recipient: str     # envelope recipient (bare address)
    message_id: str    # with angle brackets, as in the header
    data: bytes        # the whole message, CRLF line endings


def header_safe(value: str) -> str:
    """Control characters (CR, LF...) folded to spaces: user input can never add a header."""
    return " ".join(_CONTROL.sub(" ", value).split())


def _encoded(value: str) -> str:
    value = header_safe(value)
    return value if value.isascii() else Header(value, "utf-8").encode()


def _to_header(name: str | None, address: str) -> str:
    if address.isascii():
        return formataddr((header_safe(name or ""), address), charset="utf-8")
    # formataddr refuses a non-ASCII address; RFC 6532 carries it as UTF-8.
    return f"{_encoded(name)} <{address}>" if name else address


def message_id(edition_id: int, subscriber_id: int, domain: str) -> str:
    """Derived from (edition, subscriber), so a copy sent twice can be recognised."""
    return f"<digest.{edition_id}.{subscriber_id}@{domain}>"


_MESSAGE_ID = re.compile(r"<?digest\.(\d{1,19})\.(\d{1,19})@([A-Za-z0-9.-]+)>?")


def read_message_id(value: str | None, domain: str) -> tuple[int, int] | None:
    """(edition id, subscriber id) of one of our digest Message-IDs at `domain`, else None.
    Unsigned: anyone can write one, so the caller checks that such a delivery exists."""
    match = _MESSAGE_ID.fullmatch((value or "").strip())
    if match is None or match.group(3).lower() != domain:
        return None
    return int(match.group(1)), int(match.group(2))


def _crlf(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\r\n")


def _qp(text: str) -> bytes:
    encoded = binascii.b2a_qp(_crlf(text).encode("utf-8"), istext=True)
    # b2a_qp ends its soft line breaks with whatever line ending it saw first, bare LF
    # when the text has none: the wire needs CRLF everywhere.
    return encoded.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


# Quoted-printable lines stay within RFC 2045's 76 characters: 73 plus "=" and CRLF.
_QP_WIDTH = 73


class EncodedPart:
    """A body part encoded once, with the places of the personal tokens remembered.

    The encoder may fold a token across a soft line break, so the tokens are found in the
    encoded bytes allowing one between any two characters. A value goes in on lines of its
    own (soft breaks before and after), so no line exceeds 76 characters whatever its length.
    """

    def __init__(self, content: str):
        encoded = _qp(content)
        names = {token.encode(): field for field, token in TOKENS.items()}
        folded = b"|".join(b"(?:=\r\n)?".join(re.escape(bytes([c])) for c in token) for token in names)
        self.pieces: list[bytes | str] = []
        position = 0
        for match in re.finditer(b"(" + folded + b")", encoded):
            self.pieces.append(encoded[position:match.start()])
            self.pieces.append(names[match.group().replace(b"=\r\n", b"")])
            position = match.end()
        self.pieces.append(encoded[position:])

    def fill(self, values: dict[str, str]) -> bytes:
        """The part with each token's field replaced by its (already escaped) value."""
        # Each value encoded once: the reader's token recurs in every story link.
        encoded = {field: b"=\r\n" + _qp_fragment(value) + b"=\r\n" for field, value in values.items()}
        return b"".join(piece if isinstance(piece, bytes) else encoded[piece] for piece in self.pieces)


# Every token once, separated by a character no personal value contains: personalising it
# gives each field's value as the rendering module escapes it for HTML and for text.
_PROBE = "\x00".join(TOKENS.values())


def personal_fields(personal: Personal) -> tuple[dict[str, str], dict[str, str]]:
    """{field: value} for the plain-text part and for the HTML part."""
    probe = personalise(Rendered("", _PROBE, _PROBE), personal)
    return (dict(zip(TOKENS, probe.text.split("\x00"), strict=True)),
            dict(zip(TOKENS, probe.html.split("\x00"), strict=True)))


def _qp_fragment(value: str) -> bytes:
    """A value inside a line: no line breaks of its own, "=" escapes kept whole when folding."""
    encoded = binascii.b2a_qp(" ".join(value.split()).encode("utf-8"), quotetabs=True)
    encoded = encoded.replace(b"=\n", b"")
    lines, start = [], 0
    while start < len(encoded):
        end = min(start + _QP_WIDTH, len(encoded))
        # Never cut an escape (=XX) in two.
        cut = encoded.rfind(b"=", max(end - 2, start), end)
        if cut != -1 and end < len(encoded):
            end = cut
        lines.append(encoded[start:end])
        start = end
    return b"=\r\n".join(lines)


@dataclass(frozen=True)
class MailTemplate:
    from_header: str
    sender: str
    rendered: Rendered
    list_id: str
    domain: str
    boundary: str
    # Header lines that are the same for every copy of this variant.
    fixed_headers: tuple[str, ...] = ()
    unsubscribe_mailto: str | None = None
    signer: DKIMSigner | None = None
    # The two body parts, headed and encoded once per variant.
    parts: tuple[EncodedPart, ...] = ()

    @classmethod
    def build(cls, *, rendered: Rendered, from_email: str, list_name: str, list_slug: str,
              key: str, unsubscribe_mailto: str | None = None, feedback_id: str | None = None,
              signer: DKIMSigner | None = None) -> MailTemplate:
        name, address = parseaddr(from_email)
        domain = address.rpartition("@")[2].lower()
        digest = hashlib.sha256(f"{key}{rendered.html}".encode()).hexdigest()[:24]
        list_id = f"{_encoded(list_name)} <{list_slug}.{domain}>"
        fixed = [f"List-Id: {list_id}"]
        if feedback_id:
            # Gmail's format: campaign:customer:type:sender, the last part identifying us.
            fixed.append(f"Feedback-ID: {header_safe(key.replace(':', '.'))}:{list_slug}:digest:"
                         f"{header_safe(feedback_id)}")
        return cls(
            from_header=formataddr((header_safe(name), address), charset="utf-8"),
            sender=address,
            rendered=rendered,
            list_id=list_id,
            domain=domain,
            boundary=f"=_digest_{digest}",
            fixed_headers=tuple(fixed),
            unsubscribe_mailto=unsubscribe_mailto,
            signer=signer,
            parts=(EncodedPart(rendered.text), EncodedPart(rendered.html)),
        )

    def assemble(self, *, recipient: str, recipient_name: str | None, message_id: str,
                 personal: Personal, unsubscribe_url: str, subject_prefix: str = "",
                 return_path: str | None = None, subject: str | None = None) -> OutgoingMessage:
        """The message for one subscriber; `return_path` (the per-delivery VERP address,
        digest.bounces.verp) replaces the From address as the envelope sender. `subject`
        replaces the rendering's (a subject test: one rendering, two subjects)."""
        recipient = header_safe(recipient)
        text_values, html_values = personal_fields(personal)
        headers = [
            f"From: {self.from_header}",
            f"To: {_to_header(recipient_name, recipient)}",
            f"Subject: {_encoded(subject_prefix + (subject or self.rendered.subject))}",
            f"Date: {formatdate(localtime=False, usegmt=True)}",
            f"Message-ID: {message_id}",
            *self.fixed_headers,
            f"List-Unsubscribe: {self._unsubscribe(unsubscribe_url)}",
            "List-Unsubscribe-Post: List-Unsubscribe=One-Click",
            "MIME-Version: 1.0",
            f'Content-Type: multipart/alternative; boundary="{self.boundary}"',
        ]
        data = b"".join([
            # UTF-8 only for an internationalised address (RFC 6532: needs SMTPUTF8).
            "\r\n".join(headers).encode("utf-8"), b"\r\n\r\n",
            self._head("plain"), self.parts[0].fill(text_values), b"\r\n",
            self._head("html"), self.parts[1].fill(html_values), b"\r\n",
            f"--{self.boundary}--\r\n".encode("ascii"),
        ])
        if self.signer is not None:
            data = self.signer.sign(data)
        return OutgoingMessage(return_path or self.sender, recipient, message_id, data)

    def _unsubscribe(self, url: str) -> str:
        links = f"<{header_safe(url)}>"
        if self.unsubscribe_mailto:
            # The signed token (last path segment) tells the mailbox who asked.
            token = quote(url.rstrip("/").rpartition("/")[2], safe="")
            links += f", <mailto:{self.unsubscribe_mailto}?subject=unsubscribe%20{token}>"
        return links

    def _head(self, subtype: str) -> bytes:
        return (f"--{self.boundary}\r\nContent-Type: text/{subtype}; charset=utf-8\r\n"
                "Content-Transfer-Encoding: quoted-printable\r\n\r\n").encode("ascii")
