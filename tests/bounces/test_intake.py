"""The one intake function: attribution, the Feedback row, the policy, one transaction."""

from datetime import timedelta

import pytest
from sqlmodel import select

from digest.bounces.findings import Finding, Kind
from digest.bounces.intake import record
from digest.models import Feedback, Subscription, SubscriptionStatus, SuppressionEvent, utcnow
from digest.subscribers import manage
from digest.subscribers.suppression import email_hash, suppression_reason
from digest.subscribers.tokens import Purpose, make_token
from tests.conftest import make_settings

ADA, GRACE, KATHERINE = "ada.lovelace@example.com", "grace.hopper@example.com", "katherine.johnson@example.com"


def statuses(sent, email):
    subscriber = sent.subscriber(email)
    return set(sent.session.exec(select(Subscription.status).where(
        Subscription.subscriber_id == subscriber.id)).all())


def feedback(sent, email=None):
    query = select(Feedback)
    if email:
        query = query.where(Feedback.email_hash == email_hash(email))
    return sent.session.exec(query.order_by(Feedback.id)).all()


def test_the_return_path_attributes_a_bounce_whatever_address_it_names(sent):
    # Ada's mailbox forwards to an address we never mailed; that address bounces.
    finding = Finding(Kind.HARD, "ada.forwarded@elsewhere.example", "5.1.1", "user unknown",
                      return_path=sent.return_path(ADA))
    outcome = record(sent.session, sent.settings, [finding], source="mail", report_key="<r1@mx>")
    assert (outcome.recorded, outcome.suppressed) == (1, 1)
    assert suppression_reason(sent.session, ADA) == "bounce"
    assert suppression_reason(sent.session, "ada.forwarded@elsewhere.example") is None
    row, = feedback(sent)
    assert (row.edition_id, row.subscriber_id, row.kind, row.status, row.source) == \
        (sent.edition.id, sent.subscriber(ADA).id, "hard", "5.1.1", "mail")


def test_a_finding_naming_no_address_is_attributed_by_the_return_path_alone(sent):
    finding = Finding(Kind.HARD, None, "5.1.1", return_path=sent.return_path(KATHERINE))
    assert record(sent.session, sent.settings, [finding], source="mail", report_key="<r0@mx>").recorded == 1
    assert suppression_reason(sent.session, KATHERINE) == "bounce"


def test_our_message_id_attributes_when_there_is_no_return_path(sent):
    grace = sent.subscriber(GRACE)
    finding = Finding(Kind.HARD, None, "5.1.1", message_id=f"<digest.{sent.edition.id}.{grace.id}@news.example.org>")
    record(sent.session, sent.settings, [finding], source="mail", report_key="<r2@mx>")
    assert suppression_reason(sent.session, GRACE) == "bounce"
    assert feedback(sent)[0].edition_id == sent.edition.id


def test_a_message_id_naming_no_delivery_of_ours_attributes_nothing(sent):
    grace = sent.subscriber(GRACE)
    forged = [Finding(Kind.HARD, message_id=f"<digest.{sent.edition.id + 99}.{grace.id}@news.example.org>"),
              Finding(Kind.HARD, message_id=f"<digest.{sent.edition.id}.{grace.id}@other.example>")]
    outcome = record(sent.session, sent.settings, forged, source="mail", report_key="<r3@mx>")
    assert outcome.unattributed == 2 and outcome.recorded == 0
    assert suppression_reason(sent.session, GRACE) is None and feedback(sent) == []


def test_a_forged_return_path_falls_back_to_the_named_address(sent):
    real = sent.return_path(ADA)
    forged = real.replace("+", "+a", 1)
    finding = Finding(Kind.HARD, GRACE, "5.1.1", return_path=forged)
    record(sent.session, sent.settings, [finding], source="mail", report_key="<r4@mx>")
    assert suppression_reason(sent.session, ADA) is None
    assert suppression_reason(sent.session, GRACE) == "bounce"
    assert feedback(sent)[0].edition_id is None    # the address alone names no edition


def test_soft_bounces_suppress_at_the_limit_within_the_window_only(sent):
    settings = make_settings(sent.settings.data_dir.parent, sent.settings.database_url,
                             soft_bounce_limit=3, soft_bounce_days=15)
    now = utcnow()
    soft = [Finding(Kind.SOFT, KATHERINE, "4.2.2", "mailbox full")]
    # One long ago (outside the 15 days), then two inside: not yet three within the window.
    for days, key in ((20, "<s1@mx>"), (10, "<s2@mx>"), (1, "<s3@mx>")):
        record(sent.session, settings, soft, source="mail", report_key=key, now=now - timedelta(days=days))
    assert suppression_reason(sent.session, KATHERINE) is None
    outcome = record(sent.session, settings, soft, source="mail", report_key="<s4@mx>", now=now)
    assert outcome.suppressed == 1
    assert suppression_reason(sent.session, KATHERINE) == "soft-bounce"
    assert statuses(sent, KATHERINE) == {SubscriptionStatus.ACTIVE}    # suppressed, not unsubscribed
    # A hard bounce later is stronger and replaces it.
    record(sent.session, settings, [Finding(Kind.HARD, KATHERINE, "5.1.1")], source="mail", report_key="<s5@mx>")
    assert suppression_reason(sent.session, KATHERINE) == "bounce"


def test_a_complaint_unsubscribes_from_every_list_and_overrides_an_unsubscribe(sent):
    ada = sent.subscriber(ADA)
    manage.unsubscribe(sent.session, ada.id, None)
    assert suppression_reason(sent.session, ADA) == "unsubscribed"
    complaint = Finding(Kind.COMPLAINT, None, return_path=sent.return_path(ADA))
    outcome = record(sent.session, sent.settings, [complaint], source="mail", report_key="<c1@fbl>")
    assert outcome.suppressed == 1
    assert suppression_reason(sent.session, ADA) == "complaint"
    events = sent.session.exec(select(SuppressionEvent.reason).where(
        SuppressionEvent.email_hash == email_hash(ADA)).order_by(SuppressionEvent.id)).all()
    assert events == ["unsubscribed", "complaint"]


def test_a_complaint_from_an_active_subscriber_ends_all_their_subscriptions(sent):
    record(sent.session, sent.settings, [Finding(Kind.COMPLAINT, GRACE)], source="mail", report_key="<c2@fbl>")
    assert statuses(sent, GRACE) == {SubscriptionStatus.UNSUBSCRIBED}
    assert suppression_reason(sent.session, GRACE) == "complaint"


def test_an_unsubscribe_mail_with_a_token_leaves_only_the_tokens_list(sent):
    ada = sent.subscriber(ADA)
    tech = sent.lists["tech-and-science"]
    token = make_token(sent.settings.secret_key, Purpose.UNSUBSCRIBE, ada, tech.id)
    # The From address is somebody else's: the signed token decides.
    finding = Finding(Kind.UNSUBSCRIBE, GRACE, token=token)
    outcome = record(sent.session, sent.settings, [finding], source="mail", report_key="<u1@x>")
    assert outcome.unsubscribed == 1
    mine = dict(sent.session.exec(select(Subscription.list_id, Subscription.status).where(
        Subscription.subscriber_id == ada.id)).all())
    assert mine == {tech.id: "unsubscribed", sent.lists["morning-briefing"].id: "active"}
    assert statuses(sent, GRACE) == {SubscriptionStatus.ACTIVE}
    assert suppression_reason(sent.session, ADA) is None


def test_an_unsubscribe_mail_without_a_good_token_leaves_every_list(sent):
    finding = Finding(Kind.UNSUBSCRIBE, GRACE, token="forged.token.value")
    record(sent.session, sent.settings, [finding], source="mail", report_key="<u2@x>")
    assert statuses(sent, GRACE) == {SubscriptionStatus.UNSUBSCRIBED}
    assert suppression_reason(sent.session, GRACE) == "unsubscribed"     # they may sign up again


def test_an_unsubscribe_reply_to_an_edition_leaves_that_editions_list(sent):
    ada = sent.subscriber(ADA)
    finding = Finding(Kind.UNSUBSCRIBE, ADA, message_id=f"<digest.{sent.edition.id}.{ada.id}@news.example.org>")
    record(sent.session, sent.settings, [finding], source="mail", report_key="<u3@x>")
    mine = dict(sent.session.exec(select(Subscription.list_id, Subscription.status).where(
        Subscription.subscriber_id == ada.id)).all())
    assert mine[sent.edition.list_id] == "unsubscribed" and "active" in mine.values()


def test_a_report_seen_twice_counts_once(sent):
    soft = [Finding(Kind.SOFT, KATHERINE, "4.2.2")]
    first = record(sent.session, sent.settings, soft, source="imap", report_key="<same@mx>")
    again = record(sent.session, sent.settings, soft, source="mail", report_key="<same@mx>")
    assert (first.recorded, again.recorded, again.duplicates) == (1, 0, 1)
    assert len(feedback(sent, KATHERINE)) == 1


def test_ignore_findings_are_counted_and_change_nothing(sent):
    outcome = record(sent.session, sent.settings, [Finding(Kind.IGNORE, ADA, reason="out of office")],
                     source="mail", report_key="<i1@x>")
    assert outcome.kinds == {"ignore": 1} and outcome.recorded == 0
    assert feedback(sent) == [] and suppression_reason(sent.session, ADA) is None


def test_a_failure_half_way_leaves_nothing_of_the_report(sent, monkeypatch):
    from digest.bounces import intake
    real = intake.suppress
    calls = []

    def failing(session, email, reason, **kw):
        calls.append(email)
        if len(calls) == 2:
            raise RuntimeError("database went away")
        return real(session, email, reason, **kw)

    monkeypatch.setattr(intake, "suppress", failing)
    findings = [Finding(Kind.HARD, ADA, "5.1.1"), Finding(Kind.HARD, GRACE, "5.1.1")]
    with pytest.raises(RuntimeError):
        record(sent.session, sent.settings, findings, source="mail", report_key="<f1@mx>")
    assert feedback(sent) == []
    assert suppression_reason(sent.session, ADA) is None
    # Retried whole, it is recorded whole.
    monkeypatch.setattr(intake, "suppress", real)
    assert record(sent.session, sent.settings, findings, source="mail", report_key="<f1@mx>").recorded == 2
    assert suppression_reason(sent.session, ADA) == suppression_reason(sent.session, GRACE) == "bounce"
