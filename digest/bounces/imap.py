"""Reading the bounce mailbox over IMAP (``DIGEST_BOUNCE_IMAP_*``): each message is
processed and committed, and only then moved to ``DIGEST_BOUNCE_IMAP_DONE_FOLDER`` or, with
none, deleted. A crash between the commit and the move leaves the message in place; its
next reading finds its report key already recorded and changes nothing, so no report is
ever counted twice and none is lost.
"""

from __future__ import annotations

import imaplib
import logging
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from digest.bounces.intake import Outcome
from digest.bounces.reports import process
from digest.settings import Settings

log = logging.getLogger(__name__)


class NotConfigured(Exception):
    """No DIGEST_BOUNCE_IMAP_HOST."""


class MailboxError(Exception):
    """The IMAP server refused a login, a folder or a command; the message says which."""


@dataclass
class PollReport:
    processed: int = 0         # messages recorded and moved (or deleted)
    failed: list[str] = field(default_factory=list)   # "uid N: why", left in the mailbox
    outcomes: list[Outcome] = field(default_factory=list)
    left: int = 0              # beyond this run's limit, for the next one


def _quoted(name: str) -> str:
    # A folder name as an IMAP quoted string: spaces and quotes survive.
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _ok(reply: tuple[str, list], what: str) -> list:
    status, data = reply
    if status != "OK":
        detail = b" ".join(d for d in data if isinstance(d, bytes)).decode("utf-8", "replace")
        raise MailboxError(f"{what}: {status} {detail}".strip())
    return data


@contextmanager
def connect(settings: Settings) -> Iterator[imaplib.IMAP4]:
    if not settings.bounce_imap_host:
        raise NotConfigured("DIGEST_BOUNCE_IMAP_HOST is not set")
    host = settings.bounce_imap_host
    port = settings.bounce_imap_port or (993 if settings.bounce_imap_ssl else 143)
    try:
        if settings.bounce_imap_ssl:
            imap = imaplib.IMAP4_SSL(host, port, ssl_context=ssl.create_default_context(), timeout=30)
        else:
            imap = imaplib.IMAP4(host, port, timeout=30)
    except OSError as exc:
        raise MailboxError(f"cannot reach {host}:{port}: {exc}") from None
    try:
        try:
            imap.login(settings.bounce_imap_user or "", settings.bounce_imap_password or "")
        except imaplib.IMAP4.error as exc:
            raise MailboxError(f"login as {settings.bounce_imap_user!r} refused: {exc}") from None
        # imaplib keeps the greeting's list; a server offers more (MOVE) once logged in.
        imap.capabilities = tuple(_ok(imap.capability(), "capability")[-1].decode().upper().split())
        yield imap
    finally:
        try:
            imap.logout()
        except (imaplib.IMAP4.error, OSError):
            pass


def poll(session: Session, settings: Settings, *, limit: int = 500) -> PollReport:
    """Process up to `limit` messages of the bounce folder. Raises NotConfigured,
    MailboxError, or a database error (the message it was on stays in the mailbox)."""
    report = PollReport()
    with connect(settings) as imap:
        _ok(imap.select(_quoted(settings.bounce_imap_folder)),
            f"folder {settings.bounce_imap_folder!r}")
        uids = _ok(imap.uid("SEARCH", None, "UNDELETED"), "search")[0].split()
        report.left = max(len(uids) - limit, 0)
        can_move = "MOVE" in imap.capabilities
        for uid in uids[:limit]:
            data = _ok(imap.uid("FETCH", uid, "(BODY.PEEK[])"), f"fetch uid {uid.decode()}")
            raw = next((part[1] for part in data if isinstance(part, tuple)), None)
            if raw is None:
                continue        # gone meanwhile (another poller took it)
            try:
                outcome = process(session, settings, raw, source="imap")
            except Exception as exc:
                if isinstance(exc, DBAPIError):
                    raise
                # A mail the classifier cannot read stays for a person to look at.
                log.exception("bounce uid %s not processed", uid.decode())
                report.failed.append(f"uid {uid.decode()}: {exc}")
                continue
            report.outcomes.append(outcome)
            _done(imap, uid, settings.bounce_imap_done_folder, can_move)
            report.processed += 1
        if not can_move or not settings.bounce_imap_done_folder:
            _ok(imap.expunge(), "expunge")
    return report


def _done(imap: imaplib.IMAP4, uid: bytes, folder: str | None, can_move: bool) -> None:
    """Move the message to `folder` (or delete it), after its outcome was committed."""
    if folder and can_move:
        _ok(imap.uid("MOVE", uid, _quoted(folder)), f"move to {folder!r}")
        return
    if folder:
        _ok(imap.uid("COPY", uid, _quoted(folder)), f"copy to {folder!r}")
    _ok(imap.uid("STORE", uid, "+FLAGS.SILENT", r"(\Deleted)"), "flag deleted")
