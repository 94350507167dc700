"""A mail to the List-Unsubscribe mailto: address our mails advertise.

The address is ``mailto:<DIGEST_UNSUBSCRIBE_MAILTO>?subject=unsubscribe%20<token>``
(:mod:`digest.mail.message`): mail clients send it with that subject, so the token names
the subscription. A bare "unsubscribe" from a person who typed it is honoured by address.
"""

from __future__ import annotations

import re
from email.message import Message
from urllib.parse import unquote

from digest.bounces.findings import Finding, Kind
from digest.bounces.mailtext import decoded_header, first_address, header

_SUBJECT = re.compile(r"^\s*unsubscribe(?:\s+(\S+))?\s*$", re.IGNORECASE)


def unsubscribe_request(message: Message, return_path: str | None) -> Finding | None:
    match = _SUBJECT.match(decoded_header(message, "Subject"))
    if match is None:
        return None
    token = unquote(match.group(1)) if match.group(1) else None
    sender = first_address(header(message, "From"))
    return Finding(Kind.UNSUBSCRIBE, sender, None, "unsubscribe request by mail", return_path,
                   None, token)
