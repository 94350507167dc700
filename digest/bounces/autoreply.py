"""Mails a person's mailbox sends by itself: out-of-office notes, vacation and auto-replies.

They are ignored: they say the address works. Bounces carry some of the same headers
(Exim's Auto-Submitted: auto-replied), so the headers count only on a mail that is no
report from a mail system.
"""

from __future__ import annotations

import re
from email.message import Message

from digest.bounces.mailtext import decoded_header, header

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
_MAIL_SYSTEM = re.compile(r"mailer-daemon|postmaster|mail delivery|mail administrator",
                          re.IGNORECASE)


def is_auto_reply(message: Message) -> bool:
    if header(message, "X-Autoreply") or header(message, "X-Autorespond"):
        return True
    if header(message, "Precedence").lower() in ("auto_reply", "auto-reply"):
        return True
    if message.get_content_type() == "multipart/report" or _MAIL_SYSTEM.search(
            header(message, "From")):
        return False
    auto = header(message, "Auto-Submitted").lower()
    return auto.startswith("auto-replied") or bool(_SUBJECT.search(
        decoded_header(message, "Subject")))
