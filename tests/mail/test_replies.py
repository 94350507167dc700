"""The classification table: what each SMTP reply means for the ledger (pure logic)."""

import pytest

from digest.mail.errors import Bounce, Rejected, TemporaryFailure
from digest.mail.replies import Stage, enhanced_status, explains, judge

RCPT, CONTENT, MAIL, DATA = Stage.RCPT, Stage.CONTENT, Stage.MAIL, Stage.DATA


@pytest.mark.parametrize("code, text, stage, kind, relay", [
    # Accepted.
    (250, "2.1.5 OK", RCPT, None, None),
    (251, "User not local; will forward", RCPT, None, None),
    (354, "End data with <CR><LF>.<CR><LF>", DATA, None, None),
    # Mailbox problems: a bounce for that address.
    (550, "5.1.1 <x@example.net>: Recipient address rejected: User unknown", RCPT, Bounce, None),
    (550, "5.1.2 Host unknown", RCPT, Bounce, None),
    (550, "5.1.6 Mailbox has moved", RCPT, Bounce, None),
    (550, "5.1.10 Recipient address has null MX", RCPT, Bounce, None),
    (550, "5.2.1 The email account that you tried to reach is disabled", RCPT, Bounce, None),
    (550, "5.1.1 user unknown", CONTENT, Bounce, None),
    (550, "5.1.0 <x@example.net>: Recipient address rejected: User unknown in local recipient table",
     RCPT, Bounce, None),
    (550, "5.4.1 Recipient address rejected: Access denied. AS(201806281)", RCPT, Bounce, None),
    (554, "delivery error: dd This user doesn't have a yahoo.com account (x@yahoo.com) [0]", RCPT,
     Bounce, None),
    (550, "Requested action not taken: mailbox unavailable", RCPT, Bounce, None),
    (553, "sorry, that domain isn't in my list of allowed rcpthosts", RCPT, Bounce, None),
    # ... in the many words of bounce reports (qmail, Exchange, Domino, Yahoo, Gmail, Exim).
    (550, "This account has been disabled or discontinued [#102]", RCPT, Bounce, None),
    (550, "Sorry, no mailbox here by that name. (#5.1.1)", RCPT, Bounce, None),
    (550, "User jdoe (jdoe@example.net) not listed in Domino Directory", RCPT, Bounce, None),
    (550, "The recipient name is not recognized", RCPT, Bounce, None),
    (554, "Unrouteable address", RCPT, Bounce, None),
    (554, "Host or domain name not found. Name service error for name=x.example type=A", RCPT,
     Bounce, None),
    (550, "5.0.0 L'adresse de messagerie n'existe pas", RCPT, Bounce, None),
    (550, "5.5.0 Requested action not taken: mailbox unavailable (S2017062302)", RCPT, Bounce, None),
    (550, "5.7.1 No such user!", RCPT, Bounce, None),
    (550, "Benutzer unbekannt", RCPT, Bounce, None),
    (550, "all relevant MX records point to non-existent hosts", RCPT, Bounce, None),
    # ... behind Postfix's "Recipient address rejected:" frame, even with a policy code.
    (550, "5.7.1 <x@example.net>: Recipient address rejected: no such user here", RCPT, Bounce, None),
    # ... as Exchange's resolver, Exim's router, getaddrinfo and DNS say it.
    (554, "RESOLVER.ADR.RecipNotFound; not found", RCPT, Bounce, None),
    (554, 'unrouteable mail domain "x.example"', RCPT, Bounce, None),
    (554, "x.example: Name or service not known", RCPT, Bounce, None),
    (554, "Recipient domain must exist", RCPT, Bounce, None),
    (554, "No MX record found for domain x.example", RCPT, Bounce, None),
    (554, "The account you are writing to has been suspended", RCPT, Bounce, None),
    (554, "Account suspended", RCPT, Bounce, None),
    (554, "User suspended: x@example.net", RCPT, Bounce, None),
    (554, "<x@example.net>: unknown local-part", RCPT, Bounce, None),
    (554, "User x@example.net was not found on this server", RCPT, Bounce, None),
    (554, "Your envelope recipient is in my badrcptto list", RCPT, Bounce, None),
    (554, "There is no one at this address", RCPT, Bounce, None),
    (554, "Mailbox x@example.net is unavailable", RCPT, Bounce, None),
    (554, "vdeliver: Invalid or unknown virtual user", RCPT, Bounce, None),
    (554, "The address is not present in the directory", RCPT, Bounce, None),
    (554, "The mailbox of x@example.net is currently suspended", RCPT, Bounce, None),
    (554, "Address x@example.net has been replaced by y@example.net", RCPT, Bounce, None),
    (554, "The account or domain may not exist", RCPT, Bounce, None),
    (554, "x.example does not accept mail (nullMX)", RCPT, Bounce, None),
    (554, "5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup", RCPT,
     Bounce, None),
    # ... in Russian, Chinese and Japanese.
    (554, "Адрес x@example.net не существует", RCPT, Bounce, None),
    (554, "收件人不存在", RCPT, Bounce, None),
    (554, "宛先のメールアドレスは存在しません", RCPT, Bounce, None),
    # Temporary, whatever the enhanced code: retried.
    (450, "4.2.0 Greylisted, see https://example.org", RCPT, TemporaryFailure, None),
    (451, "4.7.1 Please try again later", RCPT, TemporaryFailure, None),
    (421, "4.7.0 Too many connections", MAIL, TemporaryFailure, None),
    (452, "4.5.3 Too many recipients", RCPT, TemporaryFailure, None),
    (552, "5.2.2 Mailbox full", RCPT, TemporaryFailure, None),
    (552, "Requested mail action aborted: mailbox full", CONTENT, TemporaryFailure, None),
    (550, "Mailbox quota exceeded", RCPT, TemporaryFailure, None),
    (552, "Quota violation for x@example.net", RCPT, TemporaryFailure, None),
    (550, "Postfach voll", RCPT, TemporaryFailure, None),
    (550, "The e-mail message could not be delivered because the user's mailfolder is full.", RCPT,
     TemporaryFailure, None),
    (550, "Message rejected. Not enough storage space in the recipient's mailbox", RCPT,
     TemporaryFailure, None),
    (550, "The user has exceeded their storage allocation", RCPT, TemporaryFailure, None),
    (554, "write error: No space left on device", CONTENT, TemporaryFailure, None),
    (550, "Почтовый ящик переполнен", RCPT, TemporaryFailure, None),
    (550, "收件人邮箱空间不足", RCPT, TemporaryFailure, None),
    (550, "The recipient's mailbox has exceeded its disk space limit", RCPT, TemporaryFailure, None),
    (550, "Boite du destinataire pleine", RCPT, TemporaryFailure, None),
    # Policy and relay refusals: the message fails, the address is kept.
    (554, "5.7.1 <x@example.net>: Relay access denied", RCPT, Rejected, True),
    (554, "Relay access denied", RCPT, Rejected, True),
    (550, "5.7.1 Message rejected as spam", CONTENT, Rejected, True),
    (550, "Message rejected as spam by Content Filtering", CONTENT, Rejected, True),
    (530, "5.7.0 Authentication required", MAIL, Rejected, True),
    (550, "5.7.26 Unauthenticated email is not accepted from this domain", CONTENT, Rejected, True),
    (554, "5.7.1 Service unavailable; Client host blocked using zen.spamhaus.org", RCPT, Rejected, True),
    (550, "Administrative prohibition", RCPT, Rejected, True),
    (521, "5.2.1 : AOL will not accept delivery of this message.", RCPT, Rejected, True),
    (550, "5.7.1 <x@example.net>: Recipient address rejected: Access denied", RCPT, Rejected, True),
    (550, "5.7.1 Unknown user; blocked by policy", RCPT, Rejected, True),
    (550, "Rejected: 192.0.2.1 listed in a black list at b.barracudacentral.org", RCPT, Rejected, True),
    (550, "5.7.1 Service unavailable, Client host [192.0.2.1] blocked using Spamhaus", CONTENT,
     Rejected, True),
    (550, "5.0.0 Your mail could not be delivered because they are not accepting mail from x",
     RCPT, Rejected, True),
    (550, "Unable to relay for x@example.net", RCPT, Rejected, True),
    (550, "Message failed DMARC verification", CONTENT, Rejected, True),
    (550, "Rate limit exceeded for your network, slow down", RCPT, Rejected, True),
    (550, "Too many connections from your host", RCPT, Rejected, True),
    (550, "Greylisted: come back in five minutes", RCPT, Rejected, True),
    (550, "Client host rejected: cannot find your reverse hostname", RCPT, Rejected, True),
    (550, "Hotmail does not relay dynamically-assigned IP ranges", RCPT, Rejected, True),
    (553, "Mail rejected because your IP is in the PBL", RCPT, Rejected, True),
    (550, "5.0.0 Service unavailable", RCPT, Rejected, True),
    (550, "<mx.example.org>: Helo command rejected: Host not found", RCPT, Rejected, True),
    (550, "This system is not configured to relay mail for you", RCPT, Rejected, True),
    (550, "Too many SMTP sessions for this host", RCPT, Rejected, True),
    (550, "You have exceeded the max emails per hour", RCPT, Rejected, True),
    (550, "Post by non-member to a members-only list", CONTENT, Rejected, True),
    (550, "This server does not accept mail from your domain", RCPT, Rejected, True),
    # ... about this message only: it fails, and it does not count towards stopping the send.
    (554, "Too many hops 26 (25 max)", RCPT, Rejected, False),
    (550, "Name service error for domain x.example: Host not found, try again", RCPT, Rejected,
     False),
    (550, "Command died with status 17", CONTENT, Rejected, False),
    (550, "TEMP_FAILURE: Could not initiate SMTP conversation with any hosts", RCPT, Rejected,
     False),
    (550, "Connection was dropped by the remote host", RCPT, Rejected, False),
    (550, "Recipient name x is not unique, several matches found", RCPT, Rejected, False),
    (550, "Retry time not reached for any host after a long failure period", RCPT, Rejected,
     False),
    (550, "Unable to deliver the message after multiple retries", RCPT, Rejected, False),
    (550, "The message has been in the queue too long", RCPT, Rejected, False),
    (550, "Mailbox temporarily unavailable", RCPT, Rejected, False),
    (554, "The recipient account is temporarily disabled", RCPT, Rejected, False),
    (550, "This message contains invalid MIME headers", CONTENT, Rejected, False),
    (550, "Your message was infected with a virus", CONTENT, Rejected, False),
    (550, "Local configuration error", RCPT, Rejected, False),
    (550, "Host name lookup failure", RCPT, Rejected, False),
    (550, "Could not deliver for more than 5 days; giving up", RCPT, Rejected, False),
    (554, "5.0.0 Exceeded maximum inbound message size", CONTENT, Rejected, False),
    (552, "5.3.4 Message size exceeds fixed maximum message size", CONTENT, Rejected, False),
    (552, "5.2.3 Message too big", CONTENT, Rejected, False),
    (554, "5.6.0 Message content rejected", CONTENT, Rejected, False),
    # A refused sender or DATA command is about our mail, never the recipient's address,
    # even when the relay says so at RCPT (Postfix's smtpd_delay_reject) or with a mailbox code.
    (550, "5.1.1 sender unknown", MAIL, Rejected, True),
    (550, "5.1.0 <news@example.org>: Sender address rejected: User unknown in virtual mailbox table",
     RCPT, Rejected, True),
    (550, "Verification failed for <news@example.org>", RCPT, Rejected, True),
    (550, "Sender verify failed", RCPT, Rejected, True),
    (553, "5.1.8 <news@example.org>: Sender address rejected: Domain not found", RCPT, Rejected, True),
    (550, "5.1.7 Invalid sender address", RCPT, Rejected, True),
    (550, "host mx.example.net said: 550 5.1.1 user unknown (in reply to MAIL FROM command)", RCPT,
     Rejected, True),
    (550, "SMTP error from remote mail server after MAIL FROM:<b@example.com>: 550 no such user",
     RCPT, Rejected, True),
    (550, "Domain of sender address b@example.com does not exist", RCPT, Rejected, True),
    (550, "Null sender is not allowed", RCPT, Rejected, True),
    (550, "BATV validation failure", RCPT, Rejected, True),
    (550, "Connected to 192.0.2.1 but sender was rejected. Remote host said: 553 no such user",
     RCPT, Rejected, True),
    (554, "5.5.1 Error: no valid recipients", DATA, Rejected, True),
])
def test_each_reply_means_what_it_says(code, text, stage, kind, relay):
    verdict = judge(code, text, stage, "x@example.net", "news@example.org")
    if kind is None:
        assert verdict is None
        return
    assert type(verdict) is kind
    assert verdict.code == code and verdict.recipient == "x@example.net"
    if relay is not None:
        assert verdict.relay is relay


def test_the_enhanced_code_is_read_from_the_start_of_the_text():
    assert enhanced_status("5.1.1 <a@b>: user unknown") == "5.1.1"
    assert enhanced_status("5.01.010 odd zero padding") == "5.1.10"
    assert enhanced_status("Relay access denied 5.7.1") is None
    assert judge(554, "5.7.1 Relay access denied", RCPT).status == "5.7.1"


def test_a_reply_naming_our_sender_is_about_our_mail_whatever_its_code():
    refused = judge(550, "5.1.1 <news@example.org>... User unknown", RCPT, "x@example.net", "news@example.org")
    assert type(refused) is Rejected and refused.relay


def test_a_refusal_of_our_mail_says_so():
    refused = judge(550, "5.7.1 sender not allowed", MAIL, "x@example.net")
    assert refused.reason == "the relay refuses our mail: 550 5.7.1 sender not allowed"


@pytest.mark.parametrize("text, says_why", [
    ("550 5.1.1 user unknown", True),
    ("Mailbox full", True),
    ("Client host blocked using zen.spamhaus.org", True),
    ("Connection timed out", True),
    ("This is the mail system at host mail.example.org.", False),
    ("I'm sorry to have to inform you that your message could not be delivered", False),
])
def test_explains_tells_a_reason_from_boilerplate(text, says_why):
    assert explains(text) is says_why
