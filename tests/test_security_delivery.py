"""Hung peers: a mail provider or a broker that accepts the connection and never answers must
cost a bounded time, hold no transaction, and lose nothing. Tested against a local socket that
accepts and never answers (tests/outage_helpers.py)."""
import datetime as dt

import pytest
import time_machine
from django.core import mail
from django.db import connection

from requests_app import enqueue, outbox
from requests_app.models import DataSubjectRequest, Notification, NotificationStatus

from .outage_helpers import peer, production_settings, silent_server
from .public_helpers import walk_to_review

T0 = dt.datetime(2026, 3, 2, 17, 0, tzinfo=dt.timezone.utc)


def queued(to="team@example.com"):
    """An alert in the outbox (the test's transaction never commits: nothing is published)."""
    return outbox.queue_email("deadline_alert", to, context={"items": [], "total": 0})


def test_it_sets_a_timeout_on_every_provider_call_in_the_real_settings(monkeypatch):
    real = production_settings(monkeypatch, ANYMAIL_ESP="postmark", ANYMAIL_POSTMARK_SERVER_TOKEN="t")
    assert real.EMAIL_TIMEOUT == 10 and real.ANYMAIL["REQUESTS_TIMEOUT"] == 10
    assert real.EMAIL_BACKEND == "anymail.backends.postmark.EmailBackend"


def test_it_gives_up_on_an_smtp_server_that_never_answers_and_retries_later(db, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_TIMEOUT = 1
    with silent_server() as port, time_machine.travel(T0, tick=False):
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
        note = queued()  # not published: no on-commit run
        assert outbox.deliver(note.pk) == "failed"
    note.refresh_from_db()
    assert note.status == NotificationStatus.PENDING and note.attempts == 1
    assert "timed out" in note.last_error.lower() and note.next_attempt_at == T0 + outbox.backoff(1)


def test_it_gives_up_on_an_http_provider_that_never_answers(db, settings):
    with silent_server() as port, time_machine.travel(T0, tick=False):
        settings.EMAIL_BACKEND = "anymail.backends.postmark.EmailBackend"
        settings.ANYMAIL = {"POSTMARK_SERVER_TOKEN": "t", "POSTMARK_API_URL": f"http://127.0.0.1:{port}/",
                            "REQUESTS_TIMEOUT": 1}
        note = queued()
        assert outbox.deliver(note.pk) == "failed"
    note.refresh_from_db()
    assert note.status == NotificationStatus.PENDING and "timed out" in note.last_error.lower()


class Provider:
    """An e-mail backend that looks at the world while the provider call is in progress."""
    seen: list = []
    during = None

    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        Provider.seen.append({"in_transaction": connection.in_atomic_block})
        if Provider.during:
            Provider.during()
        mail.outbox.extend(messages)
        return len(messages)


@pytest.fixture
def provider(settings):
    settings.EMAIL_BACKEND = f"{__name__}.Provider"
    Provider.seen, Provider.during = [], None
    return Provider


@pytest.mark.django_db(transaction=True)
def test_it_holds_no_transaction_during_the_provider_call_and_nobody_else_sends_it(provider, monkeypatch):
    with time_machine.travel(T0, tick=False):
        monkeypatch.setattr(outbox, "publish", lambda pk: None)  # we deliver it ourselves
        note = queued()
        mail.outbox.clear()
        others = []
        provider.during = lambda: others.extend([outbox.deliver(note.pk), outbox.due_ids()])
        assert outbox.deliver(note.pk) == "sent"
    assert provider.seen == [{"in_transaction": False}]
    assert others == ["not-pending", []]  # claimed for the length of the call: not sent twice
    assert len(mail.outbox) == 1


def test_it_never_sends_a_sent_message_again(db, provider):
    with time_machine.travel(T0, tick=False) as clock:
        note = queued()
        mail.outbox.clear()
        assert outbox.deliver(note.pk) == "sent"
        clock.shift(dt.timedelta(days=1))  # long past any lease or backoff
        assert outbox.deliver(note.pk) == "not-pending"
        assert outbox.due_ids() == []
    assert len(mail.outbox) == 1 and Notification.objects.get().status == NotificationStatus.SENT


def test_it_sends_again_after_the_lease_if_the_worker_died_during_the_call(db, provider):
    """At-least-once: a worker killed inside the provider call leaves the row claimed; once the
    lease has run out, the flush sends it."""
    with time_machine.travel(T0, tick=False) as clock:
        note = queued()

        def killed():
            raise SystemExit("worker killed")

        provider.during = killed
        with pytest.raises(SystemExit):
            outbox.deliver(note.pk)
        provider.during = None
        note.refresh_from_db()
        assert note.status == NotificationStatus.PENDING and note.next_attempt_at == T0 + outbox.send_lease()
        assert outbox.due_ids() == []
        clock.shift(outbox.send_lease() + dt.timedelta(seconds=1))
        mail.outbox.clear()
        assert outbox.due_ids() == [note.pk] and outbox.deliver(note.pk) == "sent"
    assert len(mail.outbox) == 1


def test_it_purges_the_bodies_of_sent_e_mails_after_the_setting_s_days(db, provider, settings):
    settings.DSAR_PURGE_SENT_EMAIL_BODIES_DAYS = 30
    with time_machine.travel(T0, tick=False) as clock:
        old = queued()
        outbox.deliver(old.pk)
        clock.shift(dt.timedelta(days=29))
        recent = queued("b@example.com")
        outbox.deliver(recent.pk)
        pending = queued("c@example.com")
        assert outbox.purge_sent_bodies() == 0
        clock.shift(dt.timedelta(days=2))
        from requests_app import tasks
        assert tasks.purge_sent_email_bodies() == 1
    old, recent, pending = (Notification.objects.get(pk=n.pk) for n in (old, recent, pending))
    assert old.body_text == outbox.PURGED and old.body_html == "" and old.to == ["team@example.com"]
    assert recent.body_text != outbox.PURGED and pending.body_text != outbox.PURGED
    assert settings.CELERY_BEAT_SCHEDULE["purge-sent-email-bodies"]["task"] == "requests_app.tasks.purge_sent_email_bodies"




# --- the broker --------------------------------------------------------------------------------------

@pytest.fixture(params=["down", "hung"])
def broker_out(request, settings):
    """The real Celery app publishing to a Redis broker that is down or never answers."""
    from dsar.celery import app

    settings.DSAR_PUBLISH_TIMEOUT = 0.5
    saved = app.conf.task_always_eager, app.conf.broker_url

    def forget_pools():  # (not close: kombu shares them by URL)
        app._pool = None
        app.amqp._producer_pool = None

    with peer(request.param) as where:
        app.conf.task_always_eager, app.conf.broker_url = False, f"redis://{where}/0"
        forget_pools()
        try:
            yield request.param
        finally:
            app.conf.task_always_eager, app.conf.broker_url = saved
            forget_pools()


def test_it_never_fails_the_caller_when_publishing_to_a_broker_that_is_out(broker_out, caplog):
    assert enqueue.send_task(enqueue.SEND_NOTIFICATION, 1) is False
    assert "broker unavailable" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_it_stores_the_submission_once_when_the_broker_is_out(client, broker_out):
    """The case is committed before publishing; a publish that fails or hangs costs at most the
    publish timeout and the person sees the thank-you page (a 500 would make them file again)."""
    walk_to_review(client, "DE", ["access"])
    r = client.post("/request/review/", {"declaration": "on"})
    assert r.status_code == 302 and r.url.endswith("/request/thank-you/")
    assert DataSubjectRequest.objects.count() == 1
    note = Notification.objects.get()
    assert note.status == NotificationStatus.PENDING and note.kind == "confirm_email"  # flush sends it


@pytest.mark.django_db(transaction=True)
def test_it_stores_the_submission_when_redis_is_out_as_broker_and_cache_at_once(client, broker_out, settings,
                                                                              monkeypatch):
    """Production shares one Redis for both: with it down or hung, the final POST still stores."""
    from dsar.celery import app

    where = app.conf.broker_url.split("//", 1)[1].rsplit("/", 1)[0]
    settings.CACHES = production_settings(monkeypatch, REDIS_URL=f"redis://{where}/1", REDIS_TIMEOUT="0.3",
                                          REDIS_CONNECT_TIMEOUT="0.3").CACHES
    walk_to_review(client, "DE", ["access"])
    r = client.post("/request/review/", {"declaration": "on"})
    assert r.status_code == 302 and r.url.endswith("/request/thank-you/")
    assert DataSubjectRequest.objects.count() == 1 and Notification.objects.get().status == NotificationStatus.PENDING


def test_it_never_fails_the_caller_when_publishing_a_batch_to_a_broker_that_is_out(broker_out, caplog):
    assert enqueue.send_notifications([1, 2, 3]) == 0
    assert "broker unavailable" in caplog.text


def test_it_publishes_every_message_of_a_batch_over_one_connection(settings):
    """The sweep's digests go out over one producer (bench/sweep.py); each is still its own task."""
    from kombu import Connection

    from dsar.celery import app

    saved = app.conf.task_always_eager, app.conf.broker_url

    def forget_pools():
        app._pool = None
        app.amqp._producer_pool = None

    app.conf.task_always_eager, app.conf.broker_url = False, "memory://batch-publish-test"
    forget_pools()
    try:
        assert enqueue.send_notifications([11, 12, 13]) == 3
        with Connection("memory://batch-publish-test") as conn:
            queue = conn.SimpleQueue(settings.DSAR_MAIL_QUEUE)
            published = []
            while True:
                try:
                    message = queue.get(block=False)
                except queue.Empty:
                    break
                published.append((message.headers["task"], list(message.payload[0])))
                message.ack()
            queue.close()
        assert sorted(published) == [(enqueue.SEND_NOTIFICATION, [pk]) for pk in (11, 12, 13)]
    finally:
        app.conf.task_always_eager, app.conf.broker_url = saved
        forget_pools()
