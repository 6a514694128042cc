"""The e-mail outbox: delivery through django-anymail (only the provider's HTTP API is mocked),
exponential backoff, delivery records, a dead broker, and flush_outbox."""
import contextlib
import datetime as dt
import json
import logging
from unittest import mock

import pytest
import requests
import time_machine
from django.core import mail

from requests_app import outbox, services, sweep, tasks
from requests_app.models import Deadline, Letter, LetterStatus, Notification, NotificationStatus

UTC = dt.timezone.utc
T0 = dt.datetime(2026, 3, 2, 17, 0, tzinfo=UTC)
POSTMARK_URL = "https://api.postmarkapp.com/email"


def postmark_response(status: int, body: dict) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = json.dumps(body).encode()
    response.headers["Content-Type"] = "application/json"
    response.url = POSTMARK_URL
    response.encoding = "utf-8"
    return response


OK = {"To": "", "SubmittedAt": "2026-03-20T12:00:00Z", "MessageID": "0a129aee-e1cd-480d-b08d-4f48548ff48d",
      "ErrorCode": 0, "Message": "OK"}
DOWN = {"ErrorCode": 500, "Message": "Internal server error"}


@contextlib.contextmanager
def postmark_api(settings, replies):
    """django-anymail's real Postmark backend; requests.Session.request is the only thing mocked.
    `replies` are (status, body) pairs served in turn; yields the list of requests made."""
    settings.EMAIL_BACKEND = "anymail.backends.postmark.EmailBackend"
    settings.ANYMAIL = {"POSTMARK_SERVER_TOKEN": "test-server-token"}
    calls = []

    def fake_request(self, method, url, **kwargs):
        calls.append({"method": method, "url": url, **kwargs})
        status, body = replies.pop(0)
        if status == "reset":
            raise requests.ConnectionError("connection reset by peer")
        payload = json.loads(kwargs["data"])
        return postmark_response(status, {**body, "To": payload["To"]} if status == 200 else body)

    with mock.patch.object(requests.Session, "request", fake_request):
        yield calls


def overdue_case(submit, run, manager, analyst):
    with time_machine.travel(T0, tick=False):
        case = submit("US-CA", "access")
        run(services.confirm_email, case)
        run(services.verify_identity, case, manager, method="account login")
        run(services.assign, case, manager, analyst)
    Deadline.objects.filter(case=case, kind="respond").update(due_at=T0 + dt.timedelta(days=10))
    return case


def test_deadline_digest_is_retried_with_backoff_until_the_provider_accepts_it(
        submit, run, manager, analyst, settings):
    case = overdue_case(submit, run, manager, analyst)
    now = T0 + dt.timedelta(days=11)
    # Analyst's digest: 500, then a connection reset, then accepted. Manager's: accepted at once.
    replies = [(500, DOWN), (200, OK), ("reset", None), (200, OK)]
    with postmark_api(settings, replies) as calls:
        _retried_until_accepted(case, run, manager, analyst, now, replies, calls)


def _retried_until_accepted(case, run, manager, analyst, now, replies, calls):
    with time_machine.travel(now, tick=False):
        run(sweep.run_sweep)
    notes = {n.to[0]: n for n in Notification.objects.filter(kind=sweep.DIGEST_KIND)}
    andy, mia = notes[analyst.email], notes[manager.email]
    assert mia.status == NotificationStatus.SENT and mia.attempts == 1
    assert andy.status == NotificationStatus.PENDING and andy.attempts == 1
    assert "500" in andy.last_error and andy.sent_at is None
    assert andy.next_attempt_at == now + dt.timedelta(minutes=1)

    with time_machine.travel(now + dt.timedelta(seconds=59), tick=False):
        assert tasks.flush_outbox() == {"rendered": 0, "sent": 0, "failed": 0}  # not due yet
    with time_machine.travel(now + dt.timedelta(seconds=61), tick=False):
        tasks.flush_outbox()
    andy.refresh_from_db()
    assert andy.status == NotificationStatus.PENDING and andy.attempts == 2
    assert "connection reset" in andy.last_error
    assert andy.next_attempt_at == now + dt.timedelta(seconds=61) + dt.timedelta(minutes=2)  # doubled

    with time_machine.travel(now + dt.timedelta(minutes=4), tick=False):
        assert tasks.flush_outbox()["sent"] == 1
        assert tasks.flush_outbox()["sent"] == 0  # sent once, never again
    andy.refresh_from_db()
    assert andy.status == NotificationStatus.SENT and andy.attempts == 3 and andy.last_error == ""
    assert andy.sent_at == now + dt.timedelta(minutes=4)
    assert andy.provider_message_id == OK["MessageID"]
    assert not replies

    # What went over the wire: Postmark's API, our token, text and HTML with the case link.
    last = calls[-1]
    assert last["method"] == "POST" and last["url"] == POSTMARK_URL
    assert last["headers"]["X-Postmark-Server-Token"] == "test-server-token"
    payload = json.loads(last["data"])
    assert payload["To"] == analyst.email and payload["Subject"] == "[DSAR] Deadline alert: 1 overdue"
    assert case.reference in payload["TextBody"]
    assert f'href="http://testserver/staff/cases/{case.pk}/"' in payload["HtmlBody"]


def test_backoff_doubles_and_is_capped():
    assert [outbox.backoff(n).total_seconds() for n in range(1, 9)] == [60, 120, 240, 480, 960, 1920, 3600, 3600]


def test_provider_refusing_every_recipient_is_given_up_at_once(db, settings, run):
    replies = [(422, {"ErrorCode": 406, "Message": (
        "You tried to send to a recipient that has been marked as inactive.\nFound inactive addresses: "
        "gone@example.com.\nInactive recipients are ones that have generated a hard bounce or a spam "
        "complaint. ")})]
    with postmark_api(settings, replies):
        run(outbox.queue_email, "deadline_alert", "gone@example.com", context={"items": [], "total": 0})
    note = Notification.objects.get()
    assert note.status == NotificationStatus.FAILED and note.attempts == 1
    assert "AnymailRecipientsRefused" in note.last_error


def test_gives_up_after_max_attempts(db, settings, run, caplog):
    replies = [(503, DOWN)] * outbox.MAX_ATTEMPTS
    with postmark_api(settings, replies), time_machine.travel(T0, tick=False) as clock:
        run(outbox.queue_email, "deadline_alert", "x@example.com", context={"items": [], "total": 0})
        note = Notification.objects.get()
        for _ in range(outbox.MAX_ATTEMPTS - 1):
            clock.move_to(Notification.objects.get().next_attempt_at)
            tasks.flush_outbox()
    note.refresh_from_db()
    assert note.status == NotificationStatus.FAILED and note.attempts == outbox.MAX_ATTEMPTS
    assert any(r.levelno == logging.ERROR and "gave up" in r.getMessage() for r in caplog.records)


@contextlib.contextmanager
def broker_unreachable():
    """The real Celery app publishing to a Redis nobody listens on (connection refused)."""
    from dsar.celery import app

    saved = app.conf.task_always_eager, app.conf.broker_url

    def reset_pools():  # forget (not close: kombu shares them by URL) the pools of the other broker
        app._pool = None
        app.amqp._producer_pool = None

    app.conf.task_always_eager = False
    app.conf.broker_url = "redis://127.0.0.1:9/0"
    reset_pools()
    try:
        yield
    finally:
        app.conf.task_always_eager, app.conf.broker_url = saved
        reset_pools()


@pytest.fixture
def broker_down():
    with broker_unreachable():
        yield


def test_broker_down_alerts_wait_in_the_outbox_and_go_out_when_it_is_back(
        submit, run, manager, analyst, caplog):
    case = overdue_case(submit, run, manager, analyst)
    mail.outbox.clear()
    with time_machine.travel(T0 + dt.timedelta(days=11), tick=False):
        with broker_unreachable():
            result = run(sweep.run_sweep)  # publishing on commit fails: logged, not raised
        assert result.digests == 2
        pending = Notification.objects.filter(kind=sweep.DIGEST_KIND, status=NotificationStatus.PENDING)
        assert pending.count() == 2 and not mail.outbox
        assert any("broker unavailable" in r.getMessage() for r in caplog.records)
        # The broker is back: beat's next outbox-flush sends them.
        assert tasks.flush_outbox.delay().get()["sent"] == 2
    assert {m.to[0] for m in mail.outbox} == {analyst.email, manager.email}
    assert case.reference in mail.outbox[0].body
    assert not Notification.objects.filter(status=NotificationStatus.PENDING).exists()


def test_flush_renders_pending_letters_then_sends_what_waited_for_them(submit, run, broker_down):
    with time_machine.travel(T0, tick=False):
        case = submit("US-CA", "access")  # confirmation e-mail: publish fails, stays pending
        run(services.confirm_email, case)  # acknowledgement letter + e-mail: both stay pending
    letter = Letter.objects.get(case=case, kind="acknowledgement")
    assert letter.status == LetterStatus.PENDING
    assert Notification.objects.filter(status=NotificationStatus.PENDING).count() == 2
    assert not mail.outbox
    result = tasks.flush_outbox()
    assert result == {"rendered": 1, "sent": 2, "failed": 0}
    letter.refresh_from_db()
    assert letter.status == LetterStatus.ISSUED
    ack = [m for m in mail.outbox if m.attachments]
    assert len(ack) == 1 and ack[0].attachments[0][0].endswith("acknowledgement.pdf")


def test_a_message_whose_letter_failed_is_given_up_and_does_not_block_the_rest(submit, run, broker_down):
    with time_machine.travel(T0, tick=False):
        case = submit("US-CA", "access")
        run(services.confirm_email, case)
    Letter.objects.filter(case=case).update(status=LetterStatus.FAILED, error="template missing")
    assert tasks.flush_outbox() == {"rendered": 0, "sent": 1, "failed": 0}
    waiting = Notification.objects.get(letter__case=case)
    assert waiting.status == NotificationStatus.FAILED and "template missing" in waiting.last_error


def test_a_message_waiting_for_its_letter_is_looked_at_again_later(submit, run, broker_down):
    with time_machine.travel(T0, tick=False):
        case = submit("US-CA", "access")
        run(services.confirm_email, case)
        note = Notification.objects.get(letter__case=case)
        assert outbox.deliver(note.pk) == "waiting-for-letter"
    note.refresh_from_db()
    assert note.next_attempt_at == T0 + dt.timedelta(seconds=outbox.LETTER_WAIT_SECONDS)
    assert note.attempts == 0 and note.status == NotificationStatus.PENDING


def test_queue_emails_stores_every_body_exactly_as_rendered(db, run):
    # Written as rows of values, not arrays (outbox._bulk_insert): quotes, backslashes, braces and
    # commas are what an array literal would have to escape.
    tricky = 'O\'Brien \\ "q" {a,b} NULL, ü 😀 \\"'
    messages = [{"kind": "deadline_alert", "to": [f"{x}@example.com"], "dedupe_key": f"t-{x}",
                 "context": {"rows_text": f"{tricky} {x}", "total": 1}} for x in "ab"]
    notes = run(outbox.queue_emails, messages)
    for note, x in zip(notes, "ab"):
        stored = Notification.objects.get(pk=note.pk)
        assert f"{tricky} {x}" in stored.body_text and stored.to == [f"{x}@example.com"]
        assert (stored.body_text, stored.body_html, stored.subject) == (note.body_text, note.body_html, note.subject)


def test_queue_emails_writes_many_at_once_skips_taken_keys_and_sends_after_commit(db, run):
    run(outbox.queue_email, "deadline_alert", "a@example.com", context={"items": [], "total": 0},
        dedupe_key="k-a")
    mail.outbox.clear()
    messages = [{"kind": "deadline_alert", "to": [f"{x}@example.com"], "context": {"items": [], "total": 0},
                 "dedupe_key": f"k-{x}"} for x in "abc"]
    notes = run(outbox.queue_emails, messages)
    assert [n.to for n in notes] == [["b@example.com"], ["c@example.com"]] and all(n.pk for n in notes)
    assert sorted(m.to[0] for m in mail.outbox) == ["b@example.com", "c@example.com"]
    assert Notification.objects.filter(status=NotificationStatus.SENT).count() == 3
