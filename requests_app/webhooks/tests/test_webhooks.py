"""Outbound webhooks: signed per Standard Webhooks, queued once per subscription and change,
delivered through the outbox with retries and backoff, never lost while the receiver is down,
bounded by timeouts when it hangs."""
import datetime as dt
import json

import pytest
from django.urls import reverse
from standardwebhooks.webhooks import Webhook

from requests_app import services
from requests_app.sweep import run_sweep
from requests_app.webhooks import receivers
from requests_app.webhooks import services as hooks_services
from requests_app.webhooks.models import Delivery, DeliveryStatus, Subscription

from .servers import Hanging, Receiver, free_port

T0 = dt.datetime(2026, 3, 2, 17, 0, tzinfo=dt.timezone.utc)


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run a service and its on-commit work (hooks, tasks), as after a real commit."""
    def _run(fn, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return fn(*args, **kwargs)
    return _run


@pytest.fixture
def file_case(django_capture_on_commit_callbacks):
    def _file(jurisdiction="DE", **kw):
        with django_capture_on_commit_callbacks(execute=True):
            return services.submit_request(jurisdiction=jurisdiction, request_types=["access"],
                                           requester_name="Ana Example", requester_email="ana@example.com", **kw)[0]
    return _file


def test_it_delivers_once_a_receiver_that_was_down_comes_back(subscribe, file_case, now):
    now(T0)
    port = free_port()
    sub = subscribe(port)
    case = file_case()  # the receiver is down: the immediate try fails
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.PENDING and delivery.attempts == 1
    assert "ConnectionError" in delivery.last_error
    assert delivery.next_attempt_at == T0 + dt.timedelta(seconds=30)
    with Receiver(port) as receiver:
        now(T0 + dt.timedelta(seconds=10))
        run_sweep()  # not due yet: nothing sent
        assert receiver.received == []
        now(T0 + dt.timedelta(seconds=31))
        run_sweep()
        run_sweep()
        hooks_services.deliver_due()
    assert len(receiver.received) == 1
    headers, body = receiver.received[0]
    payload = Webhook(sub.secret).verify(body, headers)  # a valid Standard Webhooks signature
    assert headers["webhook-id"] == delivery.msg_id
    assert payload["type"] == "request.created" and payload["data"]["reference"] == case.reference
    assert b"ana@example.com" not in body and b"Ana" not in body  # no personal data in payloads
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED and delivery.attempts == 2
    assert [t.status_code for t in delivery.tries.all()] == [None, 204]


def test_it_times_out_on_a_hanging_receiver_and_retries_later(subscribe, file_case, now, settings, committed):
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.3
    now(T0)
    with Hanging() as hanging:
        subscribe(hanging.port, events=["request.created", "request.state_changed"])
        case = file_case()  # submitted → one delivery; its try times out
        first = Delivery.objects.get()
        assert first.attempts == 1 and "Timeout" in first.last_error
        with_state = committed(services.confirm_email, case)  # submitted → verifying: a second delivery
        now(T0 + dt.timedelta(seconds=40))
        result = hooks_services.deliver_due()
    # One failing receiver costs one timeout per run: the run skips its other deliveries.
    assert result == {"delivered": 0, "failed": 1, "skipped": 1}
    first.refresh_from_db()
    assert first.attempts == 2 and first.status == DeliveryStatus.PENDING
    assert first.next_attempt_at == T0 + dt.timedelta(seconds=40 + 60)  # backoff doubles
    assert Delivery.objects.filter(event_type="request.state_changed").get().payload["data"]["to_state"] == \
        with_state.state


def test_it_gives_up_after_the_last_attempt_and_staff_can_send_again(subscribe, file_case, now, settings,
                                                                     client, manager):
    settings.WEBHOOK_MAX_ATTEMPTS = 2
    now(T0)
    port = free_port()
    sub = subscribe(port)
    file_case()
    now(T0 + dt.timedelta(minutes=5))
    hooks_services.deliver_due()
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED and delivery.attempts == 2
    client.force_login(manager)
    log = client.get(reverse("webhooks_staff:subscription", args=[sub.pk]))
    assert log.status_code == 200 and delivery.msg_id.encode() in log.content and b"Gave up" in log.content
    with Receiver(port) as receiver:
        client.post(reverse("webhooks_staff:redeliver", args=[sub.pk, delivery.pk]))
        hooks_services.deliver_due()
    assert len(receiver.received) == 1
    assert Delivery.objects.get().status == DeliveryStatus.DELIVERED


def test_it_queues_a_change_once_however_often_its_signal_fires(subscribe, file_case, now):
    now(T0)
    subscribe(free_port())
    case = file_case()
    event = case.events.get(kind="submitted")
    receivers.queue_event(event)
    receivers.on_event_recorded(None, event=event)
    assert Delivery.objects.count() == 1


def test_it_sends_clock_alerts_from_the_sweep_and_letters_when_issued(subscribe, file_case, now, committed):
    now(T0)
    with Receiver(free_port()) as receiver:
        subscribe(receiver.server.server_port, events=["clock.due_soon", "clock.overdue", "letter.issued"])
        case = committed(services.confirm_email, file_case("US-CA"))
        assert case.letters.get().status == "issued"  # the acknowledgement
        now(T0 + dt.timedelta(days=50))
        committed(run_sweep)
        committed(run_sweep)
    kinds = sorted(json.loads(body)["type"] for _, body in receiver.received)
    assert kinds == ["clock.overdue", "letter.issued"]  # overdue jumps past due soon; one letter
    overdue = next(json.loads(b)["data"] for _, b in receiver.received if b"clock.overdue" in b)
    assert overdue["clock"] == "respond" and overdue["case_id"] == case.pk


def test_it_lets_only_managers_manage_subscriptions(client, manager, analyst, settings):
    settings.DEBUG = False
    client.force_login(analyst)
    assert client.get(reverse("webhooks_staff:subscriptions")).status_code == 403
    client.force_login(manager)
    bad = client.post(reverse("webhooks_staff:subscriptions"),
                      {"name": "x", "url": "http://insecure.example/hook", "events": ["request.created"]})
    assert bad.status_code == 400 and b"https://" in bad.content
    ok = client.post(reverse("webhooks_staff:subscriptions"),
                     {"name": "tickets", "url": "https://tickets.example/hook", "events": ["request.created"]})
    sub = Subscription.objects.get()
    assert ok.status_code == 302 and sub.secret.startswith("whsec_") and sub.created_by == manager
    client.post(reverse("webhooks_staff:toggle", args=[sub.pk]), {"active": "0"})
    sub.refresh_from_db()
    assert not sub.active
    assert hooks_services.queue("request.created", "event:1", {}) == 0  # paused: nothing queued
