"""One report mail, from raw bytes to its recorded outcome: what every mail door (a file,
standard input from a Postfix pipe, a maildir, an IMAP mailbox) calls."""

from __future__ import annotations

import hashlib
import mailbox
from collections.abc import Iterator
from email import policy
from email.parser import BytesHeaderParser
from pathlib import Path

from sqlmodel import Session

from digest.bounces.classify import classify
from digest.bounces.intake import Outcome, record
from digest.settings import Settings

_KEY_LENGTH = 200


def report_key(raw: bytes) -> str:
    """What makes a report seen twice count once: its Message-ID, else a hash of its bytes."""
    headers = BytesHeaderParser(policy=policy.compat32).parsebytes(raw, headersonly=True)
    message_id = " ".join(str(headers.get("Message-ID") or "").split())
    if message_id and len(message_id) <= _KEY_LENGTH:
        return message_id
    return "sha256:" + hashlib.sha256(message_id.encode() if message_id else raw).hexdigest()


def process(session: Session, settings: Settings, raw: bytes, *, source: str) -> Outcome:
    """Classify one mail and record what it says, in one transaction (committed)."""
    return record(session, settings, classify(raw), source=source, report_key=report_key(raw))


def unseen_in_maildir(path: Path) -> Iterator[tuple[str, bytes]]:
    """(key, bytes) of each message in the maildir not yet marked seen, oldest first."""
    box = mailbox.Maildir(path, factory=None, create=False)
    # Maildir names begin with the delivery time: sorted names are (nearly) arrival order.
    for key in sorted(box.iterkeys()):
        message = box.get_message(key)
        if "S" not in message.get_flags():
            yield key, box.get_bytes(key)


def mark_seen(path: Path, key: str) -> None:
    """Move a processed message to cur/ flagged seen (the maildir convention), so the next
    run passes over it."""
    box = mailbox.Maildir(path, factory=None, create=False)
    message = box.get_message(key)
    message.set_subdir("cur")
    message.add_flag("S")
    box[key] = message
