"""Nothing is lost: a submission is stored even when the broker or the mail provider is down,
and the e-mail goes out once they are back."""
import datetime as dt

import pytest
import time_machine
from django.core import mail

from dsar.celery import app as celery_app
from requests_app import tasks
from requests_app.models import DataSubjectRequest, Deadline, Notification, NotificationStatus

from .public_helpers import fresh_cache, walk_to_review  # noqa: F401 - fresh_cache is autouse

T0 = dt.datetime(2026, 3, 2, 17, 0, tzinfo=dt.timezone.utc)
pytestmark = pytest.mark.django_db


def _reset_pools():
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.fixture
def broker_down():
    """Point Celery at a port where nothing listens, with tasks really published (not eager)."""
    conf = celery_app.conf
    saved = conf.broker_url, conf.task_always_eager
    conf.broker_url, conf.task_always_eager = "redis://127.0.0.1:1/0", False
    _reset_pools()
    try:
        yield
    finally:
        conf.broker_url, conf.task_always_eager = saved
        _reset_pools()


def test_submission_survives_an_unreachable_broker(client, broker_down, django_capture_on_commit_callbacks, caplog):
    walk_to_review(client, "US-CA", ["access", "deletion"])
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post("/request/review/", {"declaration": "on"})
    assert r.status_code == 302 and r.url == "/request/thank-you/"
    assert DataSubjectRequest.objects.count() == 2
    assert Deadline.objects.filter(kind="respond").count() == 2
    note = Notification.objects.get()
    assert note.kind == "confirm_email" and note.status == NotificationStatus.PENDING
    assert mail.outbox == []
    assert "broker unavailable" in caplog.text

    # The broker is back (eager again here); the beat's flush sends what waited.
    celery_app.conf.task_always_eager = True
    assert tasks.flush_outbox.delay().get()["sent"] == 1
    note.refresh_from_db()
    assert note.status == NotificationStatus.SENT and len(mail.outbox) == 1
    assert "/confirm/" in mail.outbox[0].body


def test_submission_survives_a_mail_provider_outage(client, settings, django_capture_on_commit_callbacks):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 1, 2
    with time_machine.travel(T0, tick=False) as t:
        walk_to_review(client, "DE", ["access"])
        with django_capture_on_commit_callbacks(execute=True):
            assert client.post("/request/review/", {"declaration": "on"}).status_code == 302
        note = Notification.objects.get()
        assert note.status == NotificationStatus.PENDING and note.attempts == 1 and note.last_error
        assert DataSubjectRequest.objects.count() == 1

        settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"  # provider back
        assert tasks.flush_outbox()["sent"] == 0  # not before its back-off
        t.shift(note.next_attempt_at - T0 + dt.timedelta(seconds=1))
        assert tasks.flush_outbox()["sent"] == 1
    note.refresh_from_db()
    assert note.status == NotificationStatus.SENT and len(mail.outbox) == 1
