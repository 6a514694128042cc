"""The one deadline sweep reminds task owners before their due date and escalates overdue tasks to
the case's assignee and managers, each exactly once per task and level, as one digest per recipient."""
import datetime as dt

import pytest

from requests_app.fulfilment.models import Task
from requests_app.models import Event, Notification
from requests_app.sweep import run_sweep

T0 = dt.datetime(2026, 3, 2, 17, 0, tzinfo=dt.timezone.utc)
pytestmark = pytest.mark.usefixtures("now")


def digests(to):
    return [n for n in Notification.objects.filter(kind="fulfilment_digest") if n.to == [to]]


def test_it_reminds_once_then_escalates_once(datamap, worked, now, manager, settings):
    case = worked("US-CA", "access")
    due = Task.objects.filter(case=case).first().due_at
    now(due - dt.timedelta(days=settings.DSAR_TASK_REMIND_DAYS + 1))
    assert run_sweep().steps["fulfilment"]["reminded"] == 0
    now(due - dt.timedelta(days=1))
    result = run_sweep().steps["fulfilment"]
    assert result["reminded"] == 3
    assert len(digests("olga@example.com")) == 1  # Accounts and Orders in one digest
    assert "Accounts" in digests("olga@example.com")[0].body_text and "Orders" in digests("olga@example.com")[0].body_text
    assert Notification.objects.filter(kind="fulfilment_vendor_request").count() == 2  # the vendor: a fresh link
    assert run_sweep().steps["fulfilment"]["reminded"] == 0  # exactly once
    now(due + dt.timedelta(minutes=1))
    result = run_sweep().steps["fulfilment"]
    assert result["escalated"] == 3
    assert len(digests(manager.email)) == 1 and "OVERDUE" in digests(manager.email)[0].body_text
    assert Event.objects.filter(case=case, kind="task_escalated").count() == 3
    assert not digests("dpo@fastship.example")  # vendors never get staff digests, only their own link
    assert Notification.objects.filter(kind="fulfilment_vendor_request").count() == 3
    assert run_sweep().steps["fulfilment"] == {"reminded": 0, "escalated": 0, "digests": 0, "packages_expired": 0}
    assert len(digests(manager.email)) == 1


def test_resolved_tasks_are_never_chased(datamap, worked, now, owner):
    from requests_app.fulfilment import services as fs

    case = worked("US-CA", "deletion")
    for t in Task.objects.filter(case=case):
        fs.answer_task(t, fs.Answer("no_data"), actor_label="connector")
    now(Task.objects.filter(case=case).first().due_at + dt.timedelta(days=1))
    assert run_sweep().steps["fulfilment"]["escalated"] == 0


def test_an_extension_gives_fresh_reminders(datamap, worked, now, run, manager):
    from requests_app import services

    case = worked("US-CA", "access")
    t = Task.objects.filter(case=case).first()
    now(t.due_at - dt.timedelta(days=1))
    run_sweep()
    assert Task.objects.get(pk=t.pk).reminder_level == 1
    run(services.extend_deadline, case, manager, reason="Many systems")
    assert Task.objects.get(pk=t.pk).reminder_level == 0


def test_a_step_that_finds_nothing_costs_three_queries(datamap, worked, now):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from requests_app.fulfilment.sweep_steps import sweep

    worked("US-CA", "access")
    with CaptureQueriesContext(connection) as queries:
        assert sweep(T0) == {"reminded": 0, "escalated": 0, "digests": 0, "packages_expired": 0}
    statements = [q["sql"] for q in queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE", "BEGIN"))]
    assert len(statements) == 3  # the two claims and the package expiry, whatever the number of tasks
