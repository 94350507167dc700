"""Transactional mail from ids, as the queue's workers send it: what is still due, the
retry policy, and the confirmation slot a mail that never went out gives back."""

import pytest
from sqlmodel import select

from digest.celery_app import VISIBILITY_TIMEOUT
from digest.mail.backends import get_backend
from digest.mail.backends.memory import MemoryBackend
from digest.mail.errors import Bounce, Rejected, TemporaryFailure
from digest.models import Subscriber
from digest.subscribers import manage
from digest.subscribers.notify import RETRIES, RETRY_MAX_SECONDS, Kind, attempt, deliver, retry_delay
from digest.subscribers.signup import SignUpOutcome, confirm, sign_up
from digest.subscribers.suppression import suppression_reason
from digest.subscribers.tokens import Purpose, make_token
from digest.tasks import send_notice
from tests.conftest import make_settings
from tests.smtp_server import free_port


class Recorder(list):
    """A `notify` that keeps the notices for the test to send when it likes."""

    accept = True

    def __call__(self, notice) -> bool:
        if self.accept:
            self.append(notice)
        return self.accept


def subscriber_id(session, email):
    return session.exec(select(Subscriber.id).where(Subscriber.email == email)).one()


def test_a_confirmation_is_sent_only_while_the_subscription_is_pending(session, settings, news):
    queued = Recorder()
    for person in ("pending", "confirmed", "left", "erased"):
        sign_up(session, settings, queued, list_slug="news", email=f"{person}@example.org")
    confirmed = session.get(Subscriber, subscriber_id(session, "confirmed@example.org"))
    confirm(session, settings, queued, make_token(settings.secret_key, Purpose.CONFIRM, confirmed, news.id))
    manage.unsubscribe(session, subscriber_id(session, "left@example.org"), news.id)
    manage.erase(session, subscriber_id(session, "erased@example.org"))
    backend = MemoryBackend()
    sent = [deliver(session, settings, backend, notice) for notice in queued]
    assert [n.kind for n in queued] == [Kind.CONFIRM] * 4 + [Kind.WELCOME]
    assert sent == [True, False, False, False, True]
    assert [m.recipient for m in backend.outbox] == ["pending@example.org", "confirmed@example.org"]


def test_a_confirmation_that_never_went_out_gives_its_daily_slot_back(session, settings, news, tmp_path):
    settings = make_settings(tmp_path, settings.database_url, confirmations_per_day=1,
                             mail_backend="smtp", smtp_port=free_port())      # nobody listens
    queued = Recorder()
    assert sign_up(session, settings, queued, list_slug="news", email="fay@example.org") == \
        SignUpOutcome.CONFIRMATION_QUEUED
    with pytest.raises(TemporaryFailure):                    # the worker will try again
        attempt(session, settings, get_backend(settings), queued[0], last=False)
    session.commit()
    assert sign_up(session, settings, queued, list_slug="news", email="fay@example.org") == \
        SignUpOutcome.LIMITED
    attempt(session, settings, get_backend(settings), queued[0], last=True)   # gives up
    session.commit()
    assert sign_up(session, settings, queued, list_slug="news", email="fay@example.org") == \
        SignUpOutcome.CONFIRMATION_QUEUED

    refusing = MemoryBackend()                               # a refusal for good gives it back too
    refusing.failures["fay@example.org"] = Rejected("550 5.7.1 relay denied")
    attempt(session, settings, refusing, queued[1], last=False)
    session.commit()
    queued.accept = False                                    # and so does a full queue, at once
    assert sign_up(session, settings, queued, list_slug="news", email="fay@example.org") == \
        SignUpOutcome.QUEUE_FULL
    queued.accept = True
    assert sign_up(session, settings, queued, list_slug="news", email="fay@example.org") == \
        SignUpOutcome.CONFIRMATION_QUEUED


def test_a_confirmation_that_bounces_suppresses_the_address(session, settings, news):
    queued = Recorder()
    sign_up(session, settings, queued, list_slug="news", email="nobody@example.org")
    bouncing = MemoryBackend()
    bouncing.failures["nobody@example.org"] = Bounce("550 5.1.1 no such user")
    attempt(session, settings, bouncing, queued[0], last=False)
    session.commit()
    assert suppression_reason(session, "nobody@example.org") == "bounce"
    assert sign_up(session, settings, queued, list_slug="news", email="nobody@example.org") == \
        SignUpOutcome.SUPPRESSED


def test_the_retry_policy_is_one_and_stays_inside_the_visibility_timeout():
    assert send_notice.max_retries == RETRIES
    assert send_notice.retry_backoff_max == RETRY_MAX_SECONDS < VISIBILITY_TIMEOUT
    delays = [retry_delay(n) for n in range(RETRIES) for _ in range(20)]
    assert 0 <= min(delays) and max(delays) <= RETRY_MAX_SECONDS
    assert max(retry_delay(0) for _ in range(50)) <= 2
