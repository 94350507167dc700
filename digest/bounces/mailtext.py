"""Reading the parts of a report mail that matter, whatever shape the mail is in.

Report mails come from every MTA ever written, and from spammers and broken gateways too:
nothing here trusts a charset, a content type or a header to be well formed. Every reader
returns something (an empty string, None) rather than raising.
"""

from __future__ import annotations

import email
import email.header
import email.policy
import html
import re
from email.message import Message
from email.parser import HeaderParser
from email.utils import getaddresses

# Parts that carry a copy of the original message (RFC 3462, RFC 6522): what we sent, not
# what the report says about it.
QUOTED_TYPES = ("message/rfc822", "text/rfc822-headers", "message/rfc822-headers")

# Where a plain-text report starts quoting the original message (qmail, Exim, Domino,
# Yahoo, Demon, ...): anything below is our own mail, and its addresses and words must not
# be read as the report's.
_QUOTE_START = re.compile(
    r"^[\s>*=_-]*(below this line is a copy|(this is )?a copy of (the|your) (original )?message|"
    r"original message (follows|as received)|-+ ?original message ?-+|"
    r"(returned|unsent|original) (mail|message) (follows|below)|"
    r"(the )?header of the (original|source) (mail|message)|your message reads|"
    r"start of returned message|-+ ?message headers? follows?)",
    re.IGNORECASE | re.MULTILINE)
# What a report from a mail system (not a person, not their auto-reply) looks like.
_SYSTEM_FROM = re.compile(r"mailer-daemon|postmaster|mail delivery|mail administrator|"
                          r"mail system|microsoftexchange", re.IGNORECASE)
_REPORT_SUBJECT = re.compile(
    r"undeliver|not (been )?delivered|delivery (status|failure|failed|problem|notification|"
    r"report|error)|returned mail|failure notice|mail delivery|non-?delivery|delivery has failed|"
    r"unzustellbar|nicht zustellbar|non remis|no entregado|non recapitat", re.IGNORECASE)
_MAX_PART_BYTES = 256 * 1024
_TAG = re.compile(r"<(script|style)\b.*?</\1\s*>|<[^>]*>", re.IGNORECASE | re.DOTALL)
_MESSAGE_ID = re.compile(r"^[ \t>]*Message-ID:[ \t]*(<[^<>\s]+>)", re.IGNORECASE | re.MULTILINE)


def parse(raw: bytes) -> Message:
    # compat32 never raises on malformed headers; it records defects and moves on.
    return email.message_from_bytes(raw, policy=email.policy.compat32)


def header(message: Message, name: str) -> str:
    """A header's value as text, folded onto one line; "" when absent or unreadable."""
    try:
        value = message.get(name)
        if value is None:
            return ""
        return " ".join(str(value).split())
    except Exception:  # a Header object with a bogus charset
        return ""


def decoded_header(message: Message, name: str) -> str:
    """A header with its RFC 2047 encoded words decoded ("=?utf-8?B?...?=")."""
    value = header(message, name)
    try:
        return " ".join(str(email.header.make_header(email.header.decode_header(value))).split())
    except Exception:  # unknown charset, broken encoded word
        return value


def from_mail_system(message: Message) -> bool:
    """Whether the mail is a report from a mail system: a DSN or ARF container, a failed
    recipients header, a mailer-daemon sender or a bounce subject."""
    return (message.get_content_type() == "multipart/report"
            or bool(header(message, "X-Failed-Recipients"))
            or bool(_SYSTEM_FROM.search(header(message, "From")))
            or bool(_REPORT_SUBJECT.search(decoded_header(message, "Subject"))))


def first_address(value: str) -> str | None:
    """The first mailbox in an address header, lowercased; None if it has none."""
    for _name, address in getaddresses([value]):
        address = address.strip().strip("<>").lower()
        if "@" in address:
            return address
    return None


def part_text(part: Message) -> str:
    """A text part decoded through its transfer encoding and charset; HTML made plain."""
    try:
        payload = part.get_payload(decode=True)
    except Exception:  # a broken base64 or quoted-printable body
        payload = None
    if not isinstance(payload, bytes):
        payload = str(part.get_payload() or "").encode("utf-8", "replace")
    # A report says what it has to say early; a huge part (an attachment sent back) would
    # only slow the regular expressions down.
    payload = payload[:_MAX_PART_BYTES]
    charset = part.get_content_charset() or "utf-8"
    try:
        text = payload.decode(charset, "replace")
    except (LookupError, ValueError):  # an unknown charset, or a name with a NUL in it
        text = payload.decode("latin-1")
    if part.get_content_subtype() == "html":
        text = html.unescape(_TAG.sub(" ", text))
    return text


def report_text(message: Message) -> str:
    """The human-readable report: text parts outside any quoted copy of the original."""
    texts = [part_text(part) for part in _own_parts(message) if part.get_content_maintype() == "text"
             and part.get_content_type() not in QUOTED_TYPES]
    text = "\n".join(texts)
    if match := _QUOTE_START.search(text):
        text = text[:match.start()]
    return text


def _own_parts(message: Message) -> list[Message]:
    """The leaf parts of the report itself, not descending into quoted messages."""
    if message.get_content_type() in QUOTED_TYPES:
        return []
    payload = message.get_payload()
    if message.is_multipart() and isinstance(payload, list):
        return [leaf for part in payload if isinstance(part, Message) for leaf in _own_parts(part)]
    return [message]


def quoted_original(message: Message, innermost: bool = False) -> Message | None:
    """The headers of the original message the report quotes, when it quotes them: the
    first quoted message, or with `innermost` the last (a report forwarded as an attachment
    quotes the report first, and the original inside it)."""
    found = None
    for part in message.walk():
        kind = part.get_content_type()
        if kind == "message/rfc822":
            payload = part.get_payload()
            if isinstance(payload, list) and payload and isinstance(payload[0], Message):
                found = payload[0]
        elif kind in ("text/rfc822-headers", "message/rfc822-headers"):
            found = HeaderParser().parsestr(part_text(part).lstrip())
        if found is not None and not innermost:
            break
    return found


def original_message_id(message: Message, innermost: bool = False) -> str | None:
    """Our Message-ID, from the quoted original or, in a plain-text report, its quoted headers."""
    original = quoted_original(message, innermost)
    if original is not None and (value := header(original, "Message-ID")):
        return value
    body = "\n".join(part_text(part) for part in message.walk()
                     if part.get_content_maintype() == "text")
    match = _MESSAGE_ID.search(body)
    return match.group(1) if match else None
