"""Delivery status notifications (RFC 3464): what each per-recipient block says."""

from __future__ import annotations

from dataclasses import dataclass
from email.message import Message
from email.parser import HeaderParser

from digest.bounces.mailtext import header, part_text

DSN_TYPES = ("message/delivery-status", "message/global-delivery-status")


@dataclass(frozen=True)
class Block:
    """One recipient's fields: its address, Action, Status and Diagnostic-Code text."""

    recipient: str
    action: str
    status: str | None
    diagnostic: str


def status_blocks(message: Message) -> list[Block]:
    """The per-recipient blocks of every delivery-status part, in order."""
    blocks = []
    for part in message.walk():
        if part.get_content_type() in DSN_TYPES:
            blocks.extend(_blocks(part))
    return blocks


def _blocks(part: Message) -> list[Block]:
    payload = part.get_payload()
    if isinstance(payload, list) and len(payload) > 1:
        # compat32 parses the part's blocks as sub-messages: the first is per message.
        fields = [block for block in payload[1:] if isinstance(block, Message)]
    else:
        # A part the parser left as text (an encoded body, a missing blank line) or read as
        # one message (message/global-delivery-status, RFC 6533): split it into blocks.
        text = _as_text(payload[0]) if isinstance(payload, list) and payload else part_text(part)
        chunks = text.replace("\r\n", "\n").split("\n\n")
        fields = [HeaderParser().parsestr(chunk.strip()) for chunk in chunks[1:] if chunk.strip()]
    blocks = []
    for block in fields:
        # The original recipient (when the report keeps it) is the address we sent to; the
        # final one may be an internal alias ("userx@sims-ms-daemon").
        recipient = (_address(header(block, "Original-Recipient"))
                     or _address(header(block, "Final-Recipient")))
        if recipient:
            diagnostic = header(block, "Diagnostic-Code")
            if ";" in diagnostic.partition(" ")[0]:
                diagnostic = diagnostic.partition(";")[2].strip()  # drop the "smtp;" type
            action = header(block, "Action").lower().partition(" ")[0]
            blocks.append(Block(recipient, action,
                                header(block, "Status") or None, diagnostic))
    return blocks


def _as_text(block: Message) -> str:
    try:
        return block.as_string()
    except Exception:  # a header the generator cannot fold or encode
        return ""


def _address(field: str) -> str | None:
    address = field.partition(";")[2] if ";" in field else field
    address = address.strip().strip("<>").strip().lower()
    return address if "@" in address else None
