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
#: (5.1.0, "other address status", is not among them: Postfix gives it for a refused sender.)
MAILBOX_GONE = frozenset({
    "5.1.1",   # bad destination mailbox address (user unknown)
    "5.1.2",   # bad destination system address (host or domain unknown)
    "5.1.3",   # bad destination mailbox address syntax
    "5.1.6",   # destination mailbox has moved, no forwarding address
    "5.1.10",  # recipient address has a null MX (RFC 7505)
    "5.2.1",   # mailbox disabled, not accepting messages
    "5.4.4",   # unable to route: the domain has no mail host
})

#: Enhanced codes about our own sender address: the relay refuses our mail.
SENDER_REFUSED = frozenset({"5.1.7", "5.1.8"})

#: Enhanced codes that are temporary in effect although sent as 5xx (RFC 3463: a full
#: mailbox may be emptied; RFC 5321 suggests 552 is treated as temporary).
MAILBOX_FULL = frozenset({"5.2.2"})

# What reply texts say, for the codes above and for servers that give no enhanced code.
# The sender is checked first: "Sender address rejected: User unknown" is about our
# address, not the recipient's, and suppressing every recipient for it would be a disaster.
# Postfix ("in reply to MAIL FROM command") and Exim ("after MAIL FROM:") name the command a
# quoted reply answered; one to MAIL FROM is about our sender whatever it says.
_SENDER_TEXT = re.compile(r"sender (address |was |is )?(rejected|refused|unknown|verif)|sender verify|"
                          r"verification failed for|domain of sender|"
                          r"(in reply to|after) mail from", re.IGNORECASE)
_POLICY_TEXT = re.compile(
    r"relay(ing)? (access )?(denied|not permitted|prohibited)|not permitted to relay|spam|"
    r"(unable|not allowed) to relay|\b(dmarc|spf|dkim)\b|rate ?limit|throttl|greylist|graylist|"
    r"too many (connections|messages|recipients|sessions|concurrent)|client host rejected|"
    r"(does|do) not relay|dynamic(ally)?[- ]assigned|reverse (dns|lookup|hostname)|\bptr\b|"
    r"\b(your|sending|client|sender'?s?) ip\b|\b(pbl|sbl|xbl|sorbs)\b|service (is )?unavailable|"
    r"helo command rejected|my name was rejected|"
    r"blocked|block ?list|black ?list|\b(rbl|dnsbl)\b|policy|reputation|prohibit|"
    r"authentication (required|failed)|not authori[sz]ed|not accepting (mail|messages) from|"
    r"will not accept",
    re.IGNORECASE)
_SIZE_TEXT = re.compile(r"too (big|large)|size (limit|exceed)|(message|maximum|max|inbound) size|"
                        r"exceeds", re.IGNORECASE)
# Bounce reports word "the mailbox is gone" in many ways and languages; each phrase here was
# seen in a real report (qmail, Exim, Exchange, Domino, GroupWise, Yahoo, Gmail, ...).
_MAILBOX_TEXT = re.compile(
    r"user unknown|unknown (user|recipient|local part|mailbox|address)|"
    r"(user|addressee|recipient|mailbox|address)( name)? (is )?(not known|unknown|not found|"
    r"not recogni[sz]ed|not valid|invalid)|no such (user|mailbox|recipient|account|address|person|"
    r"domain)|no mailbox|mailbox (unavailable|not found|does not exist|is disabled|is inactive)|"
    r"does ?n[o']t exist|does not have an? (final )?(e-?mail )?(delivery point|account)|"
    r"unknown or illegal user|illegal (user|recipient)|invalid (recipient|mailbox|address|user|"
    r"final delivery)|not a valid (user|mailbox|recipient|address)|recipient (address )?rejected|"
    r"recipient (not found|does not exist)|unroute?able (mail )?(address|domain)|recip(ient)?notfound|"
    r"name or service not known|domain must exist|no (valid )?mx (record|host)|"
    r"(account|mailbox)\b.{0,40}\b(is|has been) (disabled|suspended|deactivated|closed)|"
    r"user (is |has been )?(suspended|disabled|deactivated)|"
    r"account (has been |is |was )?(disabled|closed|discontinued|deactivated|terminated|"
    r"removed|deleted|inactive|expired|suspended)|(doesn't|does not) have an? [\w.-]+ account|"
    r"not listed in (the )?(domino|public name|address book)|no longer (valid|active|in use|exists)|"
    r"(host|domain)( name)? not found(?!,? try again)|unknown (host|domain)|host unknown|"
    r"no matches to nameserver query|did not exactly match|mailbox has moved|"
    r"non-?existent (host|domain|mailbox|user|address)|"
    r"n'existe pas|(utilisateur|destinataire|adresse) inconnue?|existiert nicht|"
    r"(benutzer|empf(ae|ä)nger|adresse) unbekannt|no existe|usuario desconocido|inexistente|"
    r"sconosciut[oa]|non esiste|onbekende (gebruiker|ontvanger)|bestaat niet|"
    r"usu(á|a)rio desconhecido|n(ã|a)o existe|"
    r"не существует|нет такого (пользователя|ящика|адреса)|пользователь не найден|"
    r"(用户|用戶|帐户|帳戶|账户|账号|邮箱|郵箱|收件人)(名)?不存在|存在しません|宛先不明", re.IGNORECASE)
_FULL_TEXT = re.compile(
    r"(mail ?box|mail ?folder|in ?box|storage)( is)? (full|over)|over ?quota|quota|"
    r"insufficient (storage|disk)|(mail ?box|disk) space not enough|full mailbox|"
    r"not enough (storage|disk|space)|no space left|exceeded (its |the )?storage|"
    r"storage (allocation|space)|too many messages (in|on)|ящик переполнен|(邮箱|郵箱)(已满|空间不足)|"
    r"postfach (ist )?voll|bo(î|i)te (aux lettres )?(est )?pleine|buz(ó|o)n (est(á|a) )?lleno|"
    r"casella (di posta )?piena|mailbox (is )?vol|caixa (postal )?(est(á|a) )?cheia",
    re.IGNORECASE)
# Trouble on the way that says nothing about the mailbox: loops, unreachable hosts, a queue
# that gave up, a crashed local delivery program (5.3.x, 5.4.x).
_SYSTEM_TEXT = re.compile(
    r"loop|too many hops|command died|timed? ?out|not (reachable|responding)|unreachable|"
    r"connection (refused|reset|lost|timed out)|could not (connect|find a gateway)|"
    r"unable to (connect|transfer)|temporar|try again|expired|no answer|failed \d+ attempts|"
    r"maximum delivery attempts|queue (period|lifetime|time)|too long in (the )?queue|"
    r"not (been )?collected|processing error|while being processed|temp_failure|"
    r"connection (was )?(dropped|closed)|could not initiate|not unique|ambiguous|"
    r"retry (time|timeout)|(multiple|several|too many) (retries|attempts)|"
    r"(in|on) the queue (too long|for)|(did not|didn't) respond|no response", re.IGNORECASE)
# A mailbox that is only away for now ("mailbox temporarily unavailable", "account
# temporarily disabled") is not gone, whatever else the text says.
_FOR_NOW_TEXT = re.compile(r"(mail ?box|account|user|recipient|address)( is)? temporar", re.IGNORECASE)
_TEXTS = (_SENDER_TEXT, _POLICY_TEXT, _SIZE_TEXT, _MAILBOX_TEXT, _FULL_TEXT, _SYSTEM_TEXT)


def _gone_despite_policy_code(text: str) -> bool:
    """Some servers (Yandex: "550 5.7.1 No such user!") say a mailbox is gone with a policy
    code; only words that say nothing of denial or rejection count then. Postfix's frame
    "Recipient address rejected:" is no denial: the words after it say why."""
    why = _RECIPIENT_FRAME.sub(" ", text)
    return bool(_MAILBOX_TEXT.search(why)) and not (
        _POLICY_TEXT.search(why) or _DENIED.search(why))


_DENIED = re.compile(r"denied|reject|refused|not allowed", re.IGNORECASE)
_RECIPIENT_FRAME = re.compile(r"recipient address rejected:", re.IGNORECASE)


def explains(text: str) -> bool:
    """Whether a text says why a mail failed in words this module knows: the mailbox, the
    sender, a policy, the size or a full mailbox (a report's boilerplate says none of them)."""
    return any(pattern.search(text) for pattern in _TEXTS)


def enhanced_status(text: str) -> str | None:
    """The enhanced status code a reply text starts with, as "5.1.1", or None."""
    if match := _ENHANCED.match(text):
        return ".".join(str(int(part)) for part in match.groups())
    return None


def judge(code: int, text: str, stage: Stage, recipient: str | None = None,
          sender: str | None = None) -> MailError | None:
    """None when the reply lets the message go on; otherwise the failure to record."""
    if code in _ACCEPTED[stage]:
        return None
    status = enhanced_status(text)
    reason = f"{code} {text}".strip()
    details = {"recipient": recipient, "code": code, "status": status}
    if 400 <= code < 500:
        return TemporaryFailure(reason, **details)
    if (stage in (Stage.MAIL, Stage.DATA) or status in SENDER_REFUSED or _SENDER_TEXT.search(text)
            or (sender and sender.lower() in text.lower())):
        # Our sender or our message as a whole was refused: the recipient is not at fault.
        return Rejected(f"the relay refuses our mail: {reason}", **details)
    if status in MAILBOX_FULL or _FULL_TEXT.search(text):
        return TemporaryFailure(reason, **details)
    if status in MAILBOX_GONE and not (_POLICY_TEXT.search(text) and not _MAILBOX_TEXT.search(text)):
        # (AOL's "521 5.2.1 AOL will not accept delivery of this message" is a block.)
        return Bounce(reason, **details)
    if status is not None and status.startswith("5.7.") and not _gone_despite_policy_code(text):
        # Policy: relay access, authentication, spam, reputation: our mail as a whole.
        return Rejected(reason, relay=True, **details)
    if _SIZE_TEXT.search(text):
        return Rejected(reason, relay=False, **details)
    if _POLICY_TEXT.search(text):
        return Rejected(reason, relay=True, **details)
    if _MAILBOX_TEXT.search(text) and not _FOR_NOW_TEXT.search(text):
        return Bounce(reason, **details)
    if _SYSTEM_TEXT.search(text):
        return Rejected(reason, relay=False, **details)
    if status is None and code in (550, 551, 553):
        # RFC 5321: 550 mailbox unavailable, 551 user not local, 553 mailbox name not allowed.
        return Bounce(reason, **details)
    if code == 552 and status is None:
        return TemporaryFailure(reason, **details)
    # 5.3.x system, 5.5.x protocol, 5.6.x content, other 5.x.x: this message; a 5xx with
    # neither code nor telling text: assume the relay, never the address.
    return Rejected(reason, relay=status is None, **details)


_ACCEPTED = {Stage.MAIL: (250,), Stage.RCPT: (250, 251), Stage.DATA: (354,), Stage.CONTENT: (250,)}
