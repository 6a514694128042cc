"""Fulfilment tasks as webhooks: created, answered, reopened, closed with the case, resumed,
reassigned, moved with the clock. Each change goes to the subscriptions that chose its type, signed
per Standard Webhooks, once, after the commit that made it, without the requester's personal data."""
import datetime as dt

import pytest
from django.db import transaction
from django.urls import reverse
from standardwebhooks.webhooks import Webhook

from requests_app import services
from requests_app.fulfilment import services as fs
from requests_app.fulfilment.models import DataSystem, Task
from requests_app.webhooks import receivers
from requests_app.webhooks.models import Delivery, Subscription
from tests.fixtures import make_user

from .servers import Receiver, free_port

T0 = dt.datetime(2026, 3, 2, 17, 0, tzinfo=dt.timezone.utc)
pytestmark = pytest.mark.usefixtures("now")
TASK_EVENTS = ["task.created", "task.state_changed", "task.reassigned", "task.due_changed"]


@pytest.fixture
def owner(db):
    return make_user("olga", "analyst")


@pytest.fixture
def worked(owner, submit, run, manager):
    """A verified access case the fulfilment app fanned out into two tasks (Accounts, Orders)."""
    for name in ("Accounts", "Orders"):
        DataSystem.objects.create(name=name, owner=owner, categories=["identifiers"],
                                  request_kinds=["access", "deletion"])

    def _worked():
        case = submit("US-CA", "access")
        run(services.confirm_email, case)
        run(services.verify_identity, case, manager, method="account log-in")
        case.refresh_from_db()
        return case
    return _worked


def task(case, name) -> Task:
    return Task.objects.get(case=case, system__name=name)


def verified(sub, receiver) -> list[dict]:
    """The payloads a receiver got, each checked with the Standard Webhooks library."""
    return [Webhook(sub.secret).verify(body, headers) for headers, body in receiver.received]


def test_it_sends_signed_task_events_to_the_subscriptions_that_chose_them(subscribe, worked, owner, run, client,
                                                                         manager):
    client.force_login(manager)
    with Receiver(free_port()) as task_rx, Receiver(free_port()) as case_rx:
        subscribe(case_rx.server.server_port, events=["request.created"])  # sets DEBUG: http:// on localhost
        form = client.post(reverse("webhooks_staff:subscriptions"), {  # the staff form offers the task events
            "name": "tasks", "url": f"http://127.0.0.1:{task_rx.server.server_port}/hook",
            "events": ["task.created", "task.state_changed"]})
        assert form.status_code == 302
        task_sub = Subscription.objects.get(name="tasks")
        case_sub = Subscription.objects.get(name="crm")
        case_sub.events = ["request.created", "request.state_changed"]
        case_sub.save()
        case = worked()
        orders = task(case, "Orders")
        run(fs.answer_task, orders, fs.Answer("no_data"), user=owner)
    got = verified(task_sub, task_rx)
    created = sorted((p["data"]["system"], p["data"]["task_state"]) for p in got if p["type"] == "task.created")
    assert created == [("Accounts", "open"), ("Orders", "open")]
    changed = [p["data"] for p in got if p["type"] == "task.state_changed"]
    assert len(changed) == 1
    assert {k: changed[0][k] for k in ("task_id", "reference", "from_state", "to_state", "task_state", "actor",
                                       "assignee", "action")} == {
        "task_id": orders.pk, "reference": case.reference, "from_state": "open", "to_state": "no_data",
        "task_state": "no_data", "actor": "olga", "assignee": "olga", "action": "collect"}
    assert all(b"ana@example.com" not in body and b"Ana" not in body for _, body in task_rx.received)
    # The other subscription hears of the case, never of its tasks: a task's answer is no case state change.
    others = verified(case_sub, case_rx)
    assert {p["type"] for p in others} == {"request.created", "request.state_changed"}
    assert {p["data"]["to_state"] for p in others if p["type"] == "request.state_changed"} == {"verifying",
                                                                                               case.state}
    assert not Delivery.objects.filter(subscription=case_sub, event_type__startswith="task.").exists()
    log = client.get(reverse("webhooks_staff:subscription", args=[task_sub.pk]))  # the delivery log lists them
    assert log.content.count(b"<td>task.created") == 2 and log.content.count(b"<td>task.state_changed") == 1


def test_it_queues_a_task_change_once_and_only_after_its_commit(subscribe, worked, owner,
                                                                django_capture_on_commit_callbacks):
    sub = subscribe(free_port(), events=["task.created", "task.state_changed"])  # nobody listens: rows stay
    case = worked()
    accounts, orders = task(case, "Accounts"), task(case, "Orders")
    created = Delivery.objects.filter(subscription=sub, event_type="task.created")
    changed = Delivery.objects.filter(subscription=sub, event_type="task.state_changed")
    assert created.count() == 2
    with django_capture_on_commit_callbacks(execute=True):
        fs.answer_task(orders, fs.Answer("no_data"), user=owner)
        assert not changed.exists()  # nothing before the commit
    assert changed.count() == 1
    # The signals fire again, and the same answer is sent again: still one delivery per change.
    for kind in ("tasks_created", "task_answered"):
        receivers.on_event_recorded(None, event=case.events.get(kind=kind))
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(fs.ServiceError):
        fs.answer_task(orders, fs.Answer("no_data"), user=owner)
    assert created.count() == 2 and changed.count() == 1
    # A change rolled back sends nothing.
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError), transaction.atomic():
            fs.answer_task(accounts, fs.Answer("no_data"), user=owner)
            raise RuntimeError("rolled back")
    accounts.refresh_from_db()
    assert accounts.state == "open" and changed.count() == 1


def test_it_follows_every_kind_of_task_change(subscribe, worked, owner, manager, run, now):
    with Receiver(free_port()) as rx:
        sub = subscribe(rx.server.server_port, events=TASK_EVENTS)
        case = worked()
        accounts, orders = task(case, "Accounts"), task(case, "Orders")
        run(fs.answer_task, orders, fs.Answer("failed", reason_code="technical",
                                              reason="Ana Example's account is locked"), user=owner)
        run(fs.reopen_task, orders, owner, "Unlocked")
        run(fs.reassign_task, accounts, manager, make_user("andy", "analyst"))
        run(services.extend_deadline, case, manager, reason="Ten systems to search")
        run(services.withdraw, case)
        run(fs.resume_tasks, case, "The appeal reversed the withdrawal")
    got = [(p["type"], p["data"]) for p in verified(sub, rx)]
    assert Delivery.objects.filter(subscription=sub).count() == len(got) == 11
    states = [(d["event"], d["system"], d["from_state"], d["to_state"]) for t, d in got if t == "task.state_changed"]
    assert states == [
        ("task_answered", "Orders", "open", "failed"), ("task_reopened", "Orders", "failed", "open"),
        ("tasks_closed", "Accounts", "open", "not_applicable"), ("tasks_closed", "Orders", "open", "not_applicable"),
        ("tasks_resumed", "Accounts", "not_applicable", "open"), ("tasks_resumed", "Orders", "not_applicable", "open"),
    ]
    reassigned = [d for t, d in got if t == "task.reassigned"]
    assert [(d["system"], d["from_assignee"], d["to_assignee"], d["assignee"]) for d in reassigned] == [
        ("Accounts", "olga", "andy", "andy")]
    first_due = {d["system"]: d["due_at"] for t, d in got if t == "task.created"}
    moved = [d for t, d in got if t == "task.due_changed"]
    assert sorted(d["system"] for d in moved) == ["Accounts", "Orders"]
    assert all(d["cause"] == "deadline_extended" and d["due_at"] > first_due[d["system"]] for d in moved)
    assert all(b"Ana" not in body and b"locked" not in body for _, body in rx.received)  # free text stays out
