"""What comes back after a mail has left: bounces, complaints, unsubscribes by mail.

Every door (a mail piped in, an IMAP mailbox, a provider's webhook) turns what it receives
into :class:`~digest.bounces.findings.Finding` values, and one service function acts on
them; the send path's own SMTP replies are judged in :mod:`digest.mail.replies`.
"""
