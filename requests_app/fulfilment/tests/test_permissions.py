"""Who may do what: a task's result is recorded by its owner (or a manager), anyone else gets a 403
that is audited; the data map is kept by managers; "my tasks" costs the same however many tasks."""
import datetime as dt
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from requests_app.fulfilment.models import DataSystem, Task
from requests_app.models import Event
from tests.fixtures import make_user

from .helpers import EXPORT, task

T0 = dt.datetime(2026, 3, 2, 17, 0, tzinfo=dt.timezone.utc)
pytestmark = pytest.mark.usefixtures("now")


def test_a_task_cannot_be_marked_done_by_someone_who_does_not_own_it(client, datamap, worked, analyst):
    case = worked("US-CA", "access")
    case.assignee = analyst
    type(case).objects.filter(pk=case.pk).update(assignee=analyst)
    t = task(case, "Accounts")
    client.force_login(analyst)
    r = client.post(reverse("fulfilment:task", args=[t.pk]), {"outcome": "no_data"})
    assert r.status_code == 403
    t.refresh_from_db()
    assert t.state == "open"
    denied = Event.objects.get(case=case, kind="task_action_denied")
    assert denied.actor == analyst and denied.data["task"] == t.pk


def test_the_owner_records_an_export_from_the_task_page(client, datamap, worked, owner):
    case = worked("US-CA", "access")
    t = task(case, "Accounts")
    client.force_login(owner)
    page = client.get(reverse("fulfilment:task", args=[t.pk]))
    assert page.status_code == 200 and "A** E*****" in page.content.decode()  # masked until revealed
    r = client.post(reverse("fulfilment:task", args=[t.pk]),
                    {"outcome": "done", "export": SimpleUploadedFile("a.json", EXPORT)})
    assert r.status_code == 302
    assert task(case, "Accounts").state == "done"


def test_revealing_the_person_is_audited(client, datamap, worked, owner):
    case = worked("US-CA", "access")
    client.force_login(owner)
    r = client.post(reverse("fulfilment:task_reveal", args=[task(case, "Accounts").pk]))
    assert "ana@example.com" in r.content.decode()
    assert Event.objects.filter(case=case, kind="requester_revealed", actor=owner).exists()


def test_a_failed_task_needs_a_reason(client, datamap, worked, owner):
    case = worked("US-CA", "deletion")
    client.force_login(owner)
    r = client.post(reverse("fulfilment:task", args=[task(case, "Orders").pk]), {"outcome": "failed"})
    assert r.status_code == 400 and task(case, "Orders").state == "open"


def test_only_managers_keep_the_data_map(client, analyst, manager):
    client.force_login(analyst)
    assert client.get(reverse("fulfilment:system_new")).status_code == 403
    client.force_login(manager)
    r = client.post(reverse("fulfilment:system_new"), {
        "name": "Payments", "kind": "processor", "vendor_name": "PayCo", "vendor_email": "privacy@payco.example",
        "work_mode": "vendor", "categories": ["commercial", "sensitive"], "request_kinds": ["access", "deletion"],
        "active": "on"})
    assert r.status_code == 302
    assert DataSystem.objects.get(name="Payments").categories == ["commercial", "sensitive"]


def test_a_processor_needs_its_vendor_contact(client, manager):
    client.force_login(manager)
    r = client.post(reverse("fulfilment:system_new"), {"name": "Ads", "kind": "processor", "work_mode": "vendor",
                                                       "request_kinds": ["opt_out"], "active": "on"})
    assert r.status_code == 400 and not DataSystem.objects.filter(name="Ads").exists()


def test_my_tasks_costs_a_constant_number_of_queries(client, datamap, worked, owner,
                                                     django_assert_max_num_queries):
    for i in range(6):
        worked("US-CA", "access", requester_email=f"p{i}@example.com")
    assert Task.objects.filter(assignee=owner).count() == 12
    client.force_login(owner)
    with django_assert_max_num_queries(8):
        r = client.get(reverse("fulfilment:my_tasks"))
    assert r.content.decode().count("DSAR-2026-") >= 12


def test_a_vendor_answer_cannot_come_from_a_staff_task_page_of_someone_else(client, datamap, worked):
    case = worked("US-CA", "access")
    other = make_user("zed", "analyst")
    client.force_login(other)
    assert client.get(reverse("fulfilment:task", args=[task(case, "Courier").pk])).status_code == 200  # pool
    r = client.post(reverse("fulfilment:task", args=[task(case, "Courier").pk]),
                    {"outcome": "done", "export": SimpleUploadedFile("a.json", json.dumps({}).encode())})
    assert r.status_code == 403


def test_a_failed_task_can_be_reopened_by_its_owner(client, datamap, worked, owner):
    from requests_app.fulfilment import services as fs

    case = worked("US-CA", "deletion")
    t = fs.answer_task(task(case, "Orders"), fs.Answer("failed", reason_code="technical", reason="DB down"),
                       user=owner)
    client.force_login(owner)
    client.post(reverse("fulfilment:task_reopen", args=[t.pk]), {"reason": "DB is back"})
    assert task(case, "Orders").state == "open"
    assert Event.objects.get(case=case, kind="task_reopened").reason == "DB is back"


def test_the_case_page_costs_the_same_however_many_tasks(client, datamap, worked, manager):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    few = worked("US-CA", "access")
    for i in range(8):
        DataSystem.objects.create(name=f"Extra {i}", owner_email="team@example.com", request_kinds=["access"])
    many = worked("US-CA", "access", requester_email="bo@example.com")
    assert Task.objects.filter(case=few).count() == 3 and Task.objects.filter(case=many).count() == 11
    client.force_login(manager)
    counts = []
    for case in (few, many):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("staff:case", args=[case.pk])).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]
