"""The one place that reads an SMTP reply and says what it means for the ledger.

The enhanced status code (RFC 3463, "5.1.1") says far more than the first digit: a 5xx
about the mailbox is a bounce, a 5xx about policy, the relay or the message is a refusal
of this message that says nothing about the address. Without an enhanced code, the text
and then the basic code decide. Where a reply comes matters too: a refused sender (MAIL)
or a refused DATA command is about our mail as a whole, never about the recipient.
"""

from __future__ import annotations

import re
from enum import StrEnum

from digest.mail.errors import Bounce, MailError, Rejected, TemporaryFailure


class Stage(StrEnum):
    """Which command the reply answers."""

    MAIL = "MAIL"
    RCPT = "RCPT"
    DATA = "DATA"          # the DATA command itself (354 expected)
    CONTENT = "content"    # the end of the message data (250 expected)


_ENHANCED = re.compile(r"^\s*([245])\.(\d{1,3})\.(\d{1,3})\b")

#: Enhanced codes that say the mailbox or its domain is gone: a bounce, whatever the class.
MAILBOX_GONE = frozenset({
    "5.1.0",   # other address status
    "5.1.1",   # bad destination mailbox address (user unknown)
    "5.1.2",   # bad destination system address (host or domain unknown)
    "5.1.3",   # bad destination mailbox address syntax
    "5.1.6",   # destination mailbox has moved, no forwarding address
    "5.1.10",  # recipient address has a null MX (RFC 7505)
    "5.2.1",   # mailbox disabled, not accepting messages
    "5.4.4",   # unable to route: the domain has no mail host
})

#: Enhanced codes that are temporary in effect although sent as 5xx (RFC 3463: a full
#: mailbox may be emptied; RFC 5321 suggests 552 is treated as temporary).
MAILBOX_FULL = frozenset({"5.2.2"})

# Texts of servers that give no enhanced code, checked in this order.
_POLICY_TEXT = re.compile(
    r"relay(ing)? (access )?(denied|not permitted|prohibited)|not permitted to relay|spam|"
    r"blocked|block ?list|blacklist|policy|reputation|authentication (required|failed)|"
    r"not authori[sz]ed", re.IGNORECASE)
_SIZE_TEXT = re.compile(r"too (big|large)|size limit|exceeds", re.IGNORECASE)
_MAILBOX_TEXT = re.compile(
    r"user unknown|unknown user|no such (user|mailbox|recipient)|mailbox (unavailable|not found|"
    r"does not exist)|does not exist|unknown recipient|invalid recipient|recipient (unknown|"
    r"not found)|address rejected|account (disabled|closed)|no mailbox", re.IGNORECASE)
_FULL_TEXT = re.compile(r"mailbox (is )?full|over ?quota|quota exceeded|insufficient storage",
                        re.IGNORECASE)


def enhanced_status(text: str) -> str | None:
    """The enhanced status code a reply text starts with, as "5.1.1", or None."""
    if match := _ENHANCED.match(text):
        return ".".join(str(int(part)) for part in match.groups())
    return None


def judge(code: int, text: str, stage: Stage, recipient: str | None = None) -> MailError | None:
    """None when the reply lets the message go on; otherwise the failure to record."""
    if code in _ACCEPTED[stage]:
        return None
    status = enhanced_status(text)
    reason = f"{code} {text}".strip()
    details = {"recipient": recipient, "code": code, "status": status}
    if 400 <= code < 500:
        return TemporaryFailure(reason, **details)
    if status in MAILBOX_FULL or (status is None and code == 552 and _FULL_TEXT.search(text)):
        return TemporaryFailure(reason, **details)
    if stage in (Stage.MAIL, Stage.DATA):
        # Our sender or our message as a whole was refused: the recipient is not at fault.
        return Rejected(f"the relay refuses our mail: {reason}", **details)
    if status is not None:
        if status in MAILBOX_GONE:
            return Bounce(reason, **details)
        # 5.7.x is policy (relay access, authentication, spam, reputation): our mail as a
        # whole. 5.2.3/5.3.4 (size), 5.6.x (content), other 5.x.x: this message.
        return Rejected(reason, relay=status.startswith("5.7."), **details)
    if _SIZE_TEXT.search(text):
        return Rejected(reason, relay=False, **details)
    if _POLICY_TEXT.search(text):
        return Rejected(reason, relay=True, **details)
    if _MAILBOX_TEXT.search(text) or code in (550, 551, 553):
        # RFC 5321: 550 mailbox unavailable, 551 user not local, 553 mailbox name not allowed.
        return Bounce(reason, **details)
    if code == 552:
        return TemporaryFailure(reason, **details)
    return Rejected(reason, relay=True, **details)


_ACCEPTED = {Stage.MAIL: (250,), Stage.RCPT: (250, 251), Stage.DATA: (354,), Stage.CONTENT: (250,)}
