"""Building the bytes of a mail, once per variant and cheaply per subscriber.

Serialising an ``EmailMessage`` costs 7-12 ms; doing it per subscriber would cost more than
the SMTP exchange. So a :class:`MailTemplate` holds everything that is the same for a
variant, and :meth:`MailTemplate.assemble` only substitutes personal values, encodes the two
parts as quoted-printable (a C routine) and joins prebuilt header lines. Lines end in CRLF:
``smtplib.sendmail`` sends bytes as they are.
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
from digest.render.digest import Personal, Rendered, personalise

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


def message_id(edition_id: int, subscriber_id: int, domain: str) -> str:
    """Derived from (edition, subscriber), so a copy sent twice can be recognised."""
    return f"<digest.{edition_id}.{subscriber_id}@{domain}>"


def _crlf(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\r\n")


def _qp(text: str) -> bytes:
    return binascii.b2a_qp(_crlf(text).encode("utf-8"), istext=True)


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
        )

    def assemble(self, *, recipient: str, recipient_name: str | None, message_id: str,
                 personal: Personal, unsubscribe_url: str, subject_prefix: str = "") -> OutgoingMessage:
        body = personalise(self.rendered, personal)
        recipient = header_safe(recipient)
        headers = [
            f"From: {self.from_header}",
            f"To: {formataddr((header_safe(recipient_name or ''), recipient), charset='utf-8')}",
            f"Subject: {_encoded(subject_prefix + self.rendered.subject)}",
            f"Date: {formatdate(localtime=False, usegmt=True)}",
            f"Message-ID: {message_id}",
            *self.fixed_headers,
            f"List-Unsubscribe: {self._unsubscribe(unsubscribe_url)}",
            "List-Unsubscribe-Post: List-Unsubscribe=One-Click",
            "MIME-Version: 1.0",
            f'Content-Type: multipart/alternative; boundary="{self.boundary}"',
        ]
        data = b"".join([
            "\r\n".join(headers).encode("ascii"), b"\r\n\r\n",
            self._part("plain", body.text), self._part("html", body.html),
            f"--{self.boundary}--\r\n".encode("ascii"),
        ])
        if self.signer is not None:
            data = self.signer.sign(data)
        return OutgoingMessage(self.sender, recipient, message_id, data)

    def _unsubscribe(self, url: str) -> str:
        links = f"<{header_safe(url)}>"
        if self.unsubscribe_mailto:
            # The signed token (last path segment) tells the mailbox who asked.
            token = quote(url.rstrip("/").rpartition("/")[2], safe="")
            links += f", <mailto:{self.unsubscribe_mailto}?subject=unsubscribe%20{token}>"
        return links

    def _part(self, subtype: str, content: str) -> bytes:
        head = (f"--{self.boundary}\r\nContent-Type: text/{subtype}; charset=utf-8\r\n"
                "Content-Transfer-Encoding: quoted-printable\r\n\r\n")
        return head.encode("ascii") + _qp(content) + b"\r\n"
