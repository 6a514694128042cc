"""status_callback (§2.03) through our outbox: one POST per status change, retried with backoff
while the agent is down or silent, never sent twice, in order."""
import datetime as dt
import json
import logging

import pytest

from requests_app import services as core
from requests_app.drp import callbacks
from requests_app.drp.models import CallbackStatus, DrpRequest, StatusCallback
from requests_app.sweep import run_sweep

from .conftest import free_port

T0 = dt.datetime(2026, 3, 2, 15, 0, tzinfo=dt.timezone.utc)


@pytest.fixture
def file_with(now, db, api, agent):
    def _file(url, exercise="deletion"):
        body = agent.file(api, exercise=exercise, status_callback=url).json()
        return DrpRequest.objects.select_related("case").get(request_id=body["request_id"])
    return _file


def sweep(run, at=None):
    return run(run_sweep, now=at)


def test_it_posts_each_status_change_once_with_the_status_object(file_with, receiver, run, manager, agent, api):
    server = receiver()
    drp = file_with(server.url)
    assert server.received == []  # the agent has the first status from the POST's answer
    run(core.confirm_email, drp.case)  # several audit events, one change of status
    run(core.add_note, drp.case, manager, "called the consumer")  # an event that changes nothing
    assert len(server.received) == 1
    sent = json.loads(server.received[0]["body"])
    assert sent == agent.status(api, drp.request_id).json() and sent["status"] == "in_progress"
    assert sent["reason"] == "need_user_verification"  # the consumer still confirms the agent (11 CCR §7063(a))
    assert server.received[0]["type"] == "application/json"
    run(core.confirm_agent_permission, drp.case)
    run(core.verify_identity, drp.case, manager, method="matched the account")  # still in_progress: nothing
    run(core.deny, drp.case, manager, reasons="Exempt", decision={"basis": "exempt"})
    sent = [json.loads(r["body"]) for r in server.received]
    assert [(s["status"], s.get("reason", "")) for s in sent] == [
        ("in_progress", "need_user_verification"), ("in_progress", ""), ("denied", "claim_not_covered")]
    assert StatusCallback.objects.filter(status=CallbackStatus.SENT).count() == 3


def test_it_delivers_once_when_the_agent_comes_back(file_with, receiver, run, now, caplog):
    port = free_port()
    drp = file_with(f"http://127.0.0.1:{port}/drp/callback")  # nobody listens yet
    with caplog.at_level(logging.WARNING, logger="requests_app.drp.callbacks"):
        run(core.confirm_email, drp.case)
    row = StatusCallback.objects.get()
    assert (row.status, row.attempts) == (CallbackStatus.PENDING, 1) and "Connection" in row.last_error
    assert "failed (attempt 1)" in caplog.text
    server = receiver(port)
    sweep(run, T0)  # the backoff has not run out: no attempt
    assert server.received == [] and StatusCallback.objects.get().attempts == 1
    now(T0 + dt.timedelta(minutes=2))
    sweep(run)
    assert len(server.received) == 1
    now(T0 + dt.timedelta(hours=3))
    sweep(run)
    callbacks.deliver(row.pk)  # a redelivered task for the same row
    assert len(server.received) == 1
    row.refresh_from_db()
    assert (row.status, row.attempts, row.response_code) == (CallbackStatus.SENT, 2, 200)
    assert server.received[0]["id"] == str(row.pk)  # the agent can drop an at-least-once duplicate


def test_it_times_out_on_an_agent_that_never_answers_and_retries(file_with, silent_server, run, now, caplog):
    drp = file_with(silent_server)
    run(core.confirm_email, drp.case)
    row = StatusCallback.objects.get()
    assert (row.status, row.attempts) == (CallbackStatus.PENDING, 1) and "Timeout" in row.last_error
    assert row.next_attempt_at == T0 + callbacks.backoff(1)
    now(T0 + dt.timedelta(minutes=2))
    sweep(run)
    row.refresh_from_db()
    assert (row.status, row.attempts) == (CallbackStatus.PENDING, 2)
    assert row.next_attempt_at == T0 + dt.timedelta(minutes=2) + callbacks.backoff(2)  # backs off further
    StatusCallback.objects.filter(pk=row.pk).update(attempts=callbacks.MAX_ATTEMPTS - 1)
    now(T0 + dt.timedelta(hours=1))
    with caplog.at_level(logging.ERROR, logger="requests_app.drp.callbacks"):
        sweep(run)
    row.refresh_from_db()
    assert row.status == CallbackStatus.FAILED and "gave up" in caplog.text


def test_it_sends_a_requests_changes_in_order_after_an_outage(file_with, receiver, run, now, manager):
    port = free_port()
    drp = file_with(f"http://127.0.0.1:{port}/cb")
    run(core.confirm_email, drp.case)
    now(T0 + dt.timedelta(seconds=30))
    run(core.withdraw, drp.case, reason="changed my mind")  # the second change, still inside the backoff
    assert StatusCallback.objects.filter(status=CallbackStatus.PENDING).count() == 2
    server = receiver(port)
    now(T0 + dt.timedelta(minutes=5))
    sweep(run)
    assert [json.loads(r["body"])["status"] for r in server.received] == ["in_progress", "revoked"]


def test_it_queues_a_change_once_however_often_its_event_is_heard(file_with, receiver, run):
    drp = file_with(receiver(status=500).url)
    run(core.confirm_email, drp.case)
    row = StatusCallback.objects.get()
    event = drp.case.events.filter(kind="confirm_email").get()
    drp.refresh_from_db()
    drp.last_status = {}  # even if the status looked new again, the same event queues nothing
    drp.save()
    assert callbacks.queue_change(drp.pk, event.pk) is None
    assert StatusCallback.objects.get().pk == row.pk
    assert row.response_code == 500


def test_it_sends_nothing_for_a_request_without_a_callback(now, db, api, agent, run):
    body = agent.file(api).json()
    run(core.confirm_email, DrpRequest.objects.get(request_id=body["request_id"]).case)
    assert not StatusCallback.objects.exists()


def test_it_tells_the_agent_of_an_extension_that_changes_no_state(file_with, receiver, run, manager):
    server = receiver()
    drp = file_with(server.url)
    run(core.confirm_email, drp.case)
    run(core.extend_deadline, drp.case, manager, reason="Twelve systems to search")
    last = json.loads(server.received[-1]["body"])
    assert len(server.received) == 2 and last["status"] == "in_progress"
    assert "Twelve systems to search" in last["processing_details"]
    assert last["expected_by"] == "2026-06-01T06:59:59.999999Z"


def test_it_costs_an_idle_sweep_one_indexed_query(db, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert callbacks.retry_due(T0) == {"published": 0}


def test_it_lets_a_manager_send_given_up_callbacks_again(file_with, receiver, run, client, manager,
                                                         django_capture_on_commit_callbacks):
    port = free_port()
    drp = file_with(f"http://127.0.0.1:{port}/cb")
    run(core.confirm_email, drp.case)
    StatusCallback.objects.update(status=CallbackStatus.FAILED, attempts=callbacks.MAX_ATTEMPTS)
    server = receiver(port)
    client.force_login(manager)
    page = client.get("/staff/drp/agents/").content.decode()
    assert "Send again" in page
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post("/staff/drp/agents/PERMISSION_SLIP/retry/").status_code == 302
    assert len(server.received) == 1 and StatusCallback.objects.get().status == CallbackStatus.SENT


def test_it_never_posts_to_our_own_network_in_production(file_with, receiver, run, settings):
    """An agent's status_callback is untrusted: loopback, private and link-local hosts are refused."""
    settings.DRP_CALLBACK_ALLOW_PRIVATE = False
    server = receiver()
    drp = file_with(server.url)  # http://127.0.0.1:<port>/...: loopback
    run(core.confirm_email, drp.case)
    assert server.received == []
    callback = StatusCallback.objects.get(drp_request=drp)
    assert callback.status == CallbackStatus.PENDING and "non-public address (127.0.0.1)" in callback.last_error
    assert callbacks.private_address("http://169.254.169.254/latest/meta-data") == "169.254.169.254"
    assert callbacks.private_address("http://10.1.2.3/x") == "10.1.2.3"
    assert callbacks.private_address("http://[::1]:8080/x") == "::1"
    assert callbacks.private_address("https://8.8.8.8/cb") == ""
    settings.DRP_CALLBACK_ALLOW_PRIVATE = True  # development: local agents work
    callback.next_attempt_at = callback.created_at
    callback.save(update_fields=["next_attempt_at"])
    assert callbacks.deliver(callback.pk) == "sent" and len(server.received) == 1
