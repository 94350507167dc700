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
def _any(*phrases: str) -> re.Pattern[str]:
    """One case-insensitive pattern matching any of the phrases (regular expressions)."""
    return re.compile("|".join(phrases), re.IGNORECASE)


# Each phrase below is the wording of real reports of several MTAs or providers (many are
# in Sisimai's lists of reasons); bench/bounces_sisimai.py checks them against its lists.
# Postfix ("in reply to MAIL FROM command") and Exim ("after MAIL FROM:") name the command a
# quoted reply answered; one to MAIL FROM is about our sender whatever it says. BATV and
# "no third-party DSNs" refuse a bounce address, which is ours too.
_SENDER_TEXT = _any(
    r"sender (e-?mail )?(address |was |is )?(rejected|refused|unknown|verif|invalid|empty|"
    r"not allowed|not pre-approved)", r"sender verify", r"verification failed for",
    r"domain of sender", r"(in reply to|after) mail from", r"(invalid|bogus|null|empty|unroutable) "
    r"(envelope )?sender", r"sender domain is empty", r"bogus mail from", r"\bbatv\b",
    r"third-party dsn", r"unsigned dsn", r"mail from not owned", r"senderfilter",
    r"emetteur invalide", r"fully qualified (e-?mail )?address required", r"list of senders")
_POLICY_TEXT = _any(
    r"relay(ing)? (access )?(denied|not permitted|prohibited)", r"not permitted to relay",
    r"(unable|not allowed) to relay", r"(don'?t|do not|does not|will not) relay",
    r"not configured to relay", r"open relay", r"as a relay", r"insecure mail relay",
    r"relaying mail", r"not a gateway", r"requires? authentication",
    r"spam", r"\b(dmarc|spf|dkim)\b", r"rate ?limit", r"throttl", r"gr[ea]ylist",
    r"too many (smtp )?(connections|messages|recipients|sessions|concurrent)",
    r"connection limit", r"per (hour|minute|day)\b", r"trop de connexions", r"numerous attempts",
    r"client host rejected", r"dynamic(ally)?[- ]assigned", r"reverse (dns|lookup|hostname)",
    r"\bptr\b", r"\b(your|sending|client|sender'?s?) ip\b", r"\b(pbl|sbl|xbl|sorbs)\b",
    r"service (is |currently )?unavailable", r"helo command rejected", r"my name was rejected",
    r"blocked", r"block ?list", r"black ?list", r"\b(rbl|dnsbl)\b", r"polic(y|ies)",
    r"reputation", r"prohibit", r"authentication (required|failed)", r"not authori[sz]ed",
    r"not accepting (mail|messages) from", r"will not accept", r"(does not|doesn't) accept "
    r"(e-?)?mail from", r"not accepted from", r"members-only", r"closed (mailing )?list",
    r"not subscribed", r"not allowed to post", r"captcha", r"organi[sz]ational settings")
_SIZE_TEXT = _any(r"too (big|large)", r"size (limit|exceed)", r"(message|maximum|max|inbound) size",
                  r"exceeds", r"line limit", r"taille limite", r"too much mail data")
# What the message carries: its MIME structure, a virus, an attachment type (5.6.x).
_CONTENT_TEXT = _any(
    r"invalid mime", r"mime (header|format|structure)", r"8-bit data", r"base64 encoding",
    r"binary content", r"header error", r"headers? (are )?not accepted", r"virus (detected|found)",
    r"infected", r"malware", r"(illegal|prohibited|executable|forbidden) attachment",
    r"protocol violation")
_MAILBOX_TEXT = _any(
    r"user unknown", r"unknown (virtual )?(user|recipient|local[- ]part|mailbox|address|"
    r"e-?mail address)", r"addresses were unknown",
    r"(user|recipient|mailbox|account) \S+ (was )?not found", r"@[\w.-]+>? not found",
    r"(user|recipient|mailbox|address) (does )?not exist", r"(address|mailbox) (is )?not present",
    r"(e-?mail )?address could not be found", r"(e-?mail )?name is not found",
    r"not (a known|an active) (user|address)", r"user not active", r"recipient not ok",
    r"not (a )?local (address|user)", r"recipient is not local", r"bad[-_ ](recipient|address)",
    r"bad ?rcpt ?to|valid ?rcpt ?to|badrecipientto", r"envelope recipient",
    r"no (account|mail ?box) (by that name|available)", r"no one at this address",
    r"no longer accepts mail", r"missing home directory", r"archived recipient",
    r"can't accept user", r"rejected recipients", r"in (the )?name directory", r"nessun utente",
    r"(user|addressee|recipient|mailbox|address)( name)? (is )?(not known|unknown|not found|"
    r"not recogni[sz]ed|not valid|invalid)", r"no such (user|mailbox|recipient|account|address|"
    r"person|domain)", r"no mailbox", r"mailbox (unavailable|not found|does not exist|is disabled|"
    r"is inactive|is frozen)", r"mailbox( \S+)? (is )?unavailable", r"does ?n[o']t exist", r"may not exist",
    r"does not have an? (final )?(e-?mail )?(delivery point|account)",
    r"unknown or illegal user", r"illegal (user|recipient)",
    r"invalid (recipient|mailbox|address|user|final delivery)",
    r"not a valid (user|mailbox|recipient|address)", r"recipient (address )?rejected",
    r"recipient (not found|does not exist)", r"unroute?able (mail )?(address|domain)",
    r"recip(ient)? ?notfound", r"name or service not known", r"domain must exist",
    r"no (valid )?mx (record|host)", r"does not accept (e-?)?mail(?! from)",
    r"(account|mailbox)\b.{0,40}\b(is|has been) (disabled|suspended|deactivated|closed)",
    r"(is |has been |currently )suspended", r"suspend the service", r"deactivated mailbox",
    r"inactive user", r"account is locked", r"user (is |has been )?(suspended|disabled|deactivated)",
    r"account (has been |is |was )?(disabled|closed|discontinued|deactivated|terminated|"
    r"removed|deleted|inactive|expired|suspended)", r"(doesn't|does not) have an? [\w.-]+ account",
    r"not listed in (the )?(domino|public name|address book)",
    r"no longer (valid|active|in use|exists)", r"has been replaced by",
    r"(host|domain)( name)? not found(?!,? try again)", r"unknown (host|domain)", r"host unknown",
    r"no matches to nameserver query", r"did not exactly match", r"mailbox has moved",
    r"non-?existent (host|domain|mailbox|user|address)",
    r"n'existe pas", r"(utilisateur|destinataire|adresse) inconnue?", r"existiert nicht",
    r"(benutzer|empf(ae|ä)nger|adresse) unbekannt", r"no existe", r"usuario desconocido",
    r"inexistente", r"sconosciut[oa]", r"non esiste", r"onbekende (gebruiker|ontvanger)",
    r"bestaat niet", r"usu(á|a)rio desconhecido", r"n(ã|a)o existe", r"не существует",
    r"нет такого (пользователя|ящика|адреса)", r"пользователь не найден",
    r"(用户|用戶|帐户|帳戶|账户|账号|邮箱|郵箱|收件人)(名)?不存在", r"存在しません", r"宛先不明")
_FULL_TEXT = _any(
    r"(mail ?box|mail ?folder|in ?box|storage)( is)? (full|over)", r"over ?quota", r"quota",
    r"insufficient (storage|disk)", r"(mail ?box|disk) space not enough", r"full mailbox",
    r"not enough (storage|disk|space)", r"enough space", r"no space left",
    r"exceeded (its |the )?(storage|disk space limit|local limit)", r"exceeding receiving limit",
    r"storage (allocation|space)", r"maximum allowed storage", r"space has been used up",
    r"too many messages (in|on)", r"ящик переполнен", r"(邮箱|郵箱)(已满|空间不足)",
    r"postfach (ist )?voll", r"bo(î|i)te (aux lettres |du destinataire )?(est )?pleine",
    r"buz(ó|o)n (est(á|a) )?lleno", r"casella (di posta )?piena", r"mailbox (is )?vol",
    r"caixa (postal )?(est(á|a) )?cheia")
# Trouble on the way that says nothing about the mailbox: loops, unreachable hosts, a queue
# that gave up, a crashed or misconfigured server (5.3.x, 5.4.x), an ambiguous name (X.1.4).
_SYSTEM_TEXT = _any(
    r"loop", r"too many hops", r"command died", r"timed? ?out", r"not (reachable|responding)",
    r"unreachable", r"connection (refused|reset|lost|timed out)", r"could not (connect|find a "
    r"gateway)", r"unable to (connect|transfer|resolve)", r"temporar", r"try again", r"expired",
    r"no answer", r"failed \d+ attempts", r"maximum delivery attempts",
    r"queue (period|lifetime|time)", r"too long in (the )?queue", r"not (been )?collected",
    r"processing error", r"while being processed", r"temp_failure",
    r"connection (was )?(dropped|closed)", r"could not initiate", r"not unique", r"ambiguous",
    r"retry (time|timeout)", r"(multiple|several|too many) (retries|attempts)",
    r"(in|on) the queue (too long|for)", r"(did not|didn't) respond", r"no response",
    r"giving up", r"failing for a long time", r"has been delayed", r"for more than",
    r"failed to deliver to domain", r"lookup fail", r"name server reply", r"no route to host",
    r"config(uration)? error", r"misconfigured", r"internal (server )?error",
    r"error (in|while) processing", r"local error", r"write error", r"interrupted system call",
    r"can't create", r"could not load", r"operation now in progress", r"transaction failed",
    r"system (is )?full")
# A mailbox that is only away for now ("mailbox temporarily unavailable", "account
# temporarily disabled") is not gone, whatever else the text says.
_FOR_NOW_TEXT = _any(r"(mail ?box|account|user|recipient|address)( is)? temporar")
_TEXTS = (_SENDER_TEXT, _POLICY_TEXT, _SIZE_TEXT, _CONTENT_TEXT, _MAILBOX_TEXT, _FULL_TEXT,
          _SYSTEM_TEXT)


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
    if _SIZE_TEXT.search(text) or _CONTENT_TEXT.search(text):
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
