"""Report mails as real MTAs write them (RFC 3464 DSNs in each one's own wording and
layout, an RFC 5965 complaint), composed for the intake tests."""

from __future__ import annotations

import hashlib

# Each MTA's envelope of the DSN: who sends it, its subject, the human part, extra fields.
MTAS = {
    "postfix": ("MAILER-DAEMON@mx.example.net (Mail Delivery System)",
                "Undelivered Mail Returned to Sender",
                "This is the mail system at host mx.example.net.\n\nI'm sorry to have to inform "
                "you that your message could not\nbe delivered to one or more recipients.",
                "Reporting-MTA: dns; mx.example.net\nX-Postfix-Queue-ID: 4Zx1Lq0b3Rz9sWb\n"
                "Arrival-Date: Tue,  1 Dec 2026 07:00:03 +0000 (UTC)"),
    "exim": ("Mail Delivery System <Mailer-Daemon@smtp.example.net>",
             "Mail delivery failed: returning message to sender",
             "This message was created automatically by mail delivery software.\n\nA message "
             "that you sent could not be delivered to one or more of its\nrecipients. This is a "
             "permanent error. The following address(es) failed:",
             "Reporting-MTA: dns; smtp.example.net"),
    "exchange": ("Microsoft Outlook <postmaster@outlook.example.com>",
                 "Undeliverable: Example Daily",
                 "Delivery has failed to these recipients or groups:\n\nYour message couldn't be "
                 "delivered. The email address wasn't found at the destination domain.",
                 "Reporting-MTA: dns;AM0PR01MB1234.eurprd01.prod.exchangelabs.com\n"
                 "Received-From-MTA: dns;mail.news.example.org\n"
                 "Arrival-Date: Tue, 1 Dec 2026 07:00:04 +0000"),
    "gmail": ("Mail Delivery Subsystem <mailer-daemon@googlemail.com>",
              "Delivery Status Notification (Failure)",
              "** Message not delivered **\n\nThere was a problem delivering your message.",
              "Reporting-MTA: dns; googlemail.com\nArrival-Date: Tue, 01 Dec 2026 07:00:04 -0800"),
}


def dsn(mta: str, *, to: str, recipient: str | None, status: str, diagnostic: str,
        original_id: str = "<unrelated@elsewhere.example>", report_id: str | None = None,
        action: str = "failed") -> bytes:
    """A delivery status notification from `mta` to `to` (our return path) about one
    recipient (None: the report names no address at all)."""
    sender, subject, human, per_message = MTAS[mta]
    boundary = f"{mta}-dsn-boundary"
    recipient_fields = (f"Final-Recipient: rfc822; {recipient}\nOriginal-Recipient: rfc822;{recipient}\n"
                        if recipient else "")
    text = f"""\
Return-Path: <>
Delivered-To: {to}
From: {sender}
To: {to}
Subject: {subject}
Date: Tue, 1 Dec 2026 07:00:05 +0000
Message-ID: {report_id or _report_id(mta, to, recipient, status)}
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="{boundary}"

This is a MIME-encapsulated message.

--{boundary}
Content-Type: text/plain; charset=us-ascii

{human}

  {recipient or "(a recipient)"}
    {diagnostic}

--{boundary}
Content-Type: message/delivery-status

{per_message}

{recipient_fields}Action: {action}
Status: {status}
Remote-MTA: dns; mx1.{mta}-remote.example
Diagnostic-Code: smtp; {diagnostic}

--{boundary}
Content-Type: text/rfc822-headers

From: Example Daily <daily@news.example.org>
To: {recipient or "someone@example.net"}
Subject: Your morning briefing
Message-ID: {original_id}

--{boundary}--
"""
    return text.replace("\n", "\r\n").encode("ascii")


def _report_id(*parts) -> str:
    return f"<{hashlib.sha256(repr(parts).encode()).hexdigest()[:16]}@{parts[0]}.example.net>"


def not_a_bounce(to: str) -> bytes:
    """An out-of-office reply: no report at all."""
    return (f"From: Ada <ada.lovelace@example.com>\r\nTo: {to}\r\nSubject: Out of office\r\n"
            "Message-ID: <ooo.1@example.com>\r\nAuto-Submitted: auto-replied\r\n\r\n"
            "I am away until Monday.\r\n").encode()
