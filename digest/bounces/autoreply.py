"""Mails a person's mailbox sends by itself: out-of-office notes, vacation and auto-replies.

They are ignored: they say the address works. Bounces carry some of the same headers
(Exim's and Exchange's Auto-Submitted: auto-replied), so nothing here counts on a mail that
looks like a report from a mail system.
"""

from __future__ import annotations

import re
from email.message import Message

from digest.bounces.mailtext import decoded_header, from_mail_system, header

_SUBJECT = re.compile(
    r"out of (the )?office|automatic reply|auto(matic|mated)?[- ]?(reply|response|answer)|"
    r"\bvacation\b|\bOOO\b|away from (the office|my desk)|on (annual )?leave|"
    r"abwesenheit|automatische antwort|ich bin (nicht|bis)|"
    r"r(é|e)ponse automatique|absence|absent du bureau|"
    r"respuesta autom(á|a)tica|fuera de la oficina|ausente|"
    r"risposta automatica|fuori (sede|ufficio)|assente|"
    r"automatisch antwoord|afwezig|niet aanwezig|resposta autom(á|a)tica|ausência|"
    r"autosvar|fraværende|frånvaro|automatyczna odpowied|nieobecno|automaattinen vastaus|"
    r"自动回复|自動回覆|自動応答|不在|"
    r"автоответ|автоматический ответ|otomatik yanıt",
    re.IGNORECASE)


def is_auto_reply(message: Message) -> bool:
    if from_mail_system(message):
        return False
    if header(message, "X-Autoreply") or header(message, "X-Autorespond"):
        return True
    if header(message, "Precedence").lower() in ("auto_reply", "auto-reply"):
        return True
    # RFC 3834: anything but "no" is automatic (Exchange marks its out-of-office
    # notes auto-generated, Gmail's vacation responder auto-replied).
    auto = header(message, "Auto-Submitted").lower()
    return (bool(auto) and not auto.startswith("no")) or bool(
        _SUBJECT.search(decoded_header(message, "Subject")))
