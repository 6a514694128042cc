"""A case that can be worked gets one task per system its request concerns, due inside its legal
clock; the due dates follow the clock when it is extended, paused or enters a new phase."""
import datetime as dt

import pytest

from requests_app import services
from requests_app.fulfilment.models import Task
from requests_app.models import Deadline, Event

T0 = dt.datetime(2026, 3, 2, 17, 0, tzinfo=dt.timezone.utc)  # Monday 2 March 2026, 09:00 in California
pytestmark = pytest.mark.usefixtures("now")


def tasks(case):
    return {t.system.name: t for t in Task.objects.filter(case=case).select_related("system")}


def respond(case, kind="respond"):
    return Deadline.objects.get(case=case, kind=kind, status="open", appeal__isnull=True)


@pytest.mark.parametrize("jurisdiction,request_type,action,systems", [
    ("US-CA", "access", "collect", {"Accounts", "Orders", "Courier"}),
    ("DE", "portability", "collect", {"Accounts", "Orders", "Courier"}),
    ("GB", "erasure", "erase", {"Accounts", "Orders", "Courier"}),
    ("BR", "rectification", "correct", {"Accounts"}),
    ("US-CA", "deletion", "erase", {"Accounts", "Orders", "Courier"}),
])
def test_it_fans_a_verified_case_out_per_request_type_and_regime(datamap, worked, jurisdiction, request_type,
                                                                 action, systems):
    case = worked(jurisdiction, request_type)
    found = tasks(case)
    assert set(found) == systems
    assert {t.action for t in found.values()} == {action}
    assert found["Accounts"].assignee.username == "olga"
    assert found.get("Courier") is None or found["Courier"].assignee is None  # the vendor answers
    assert Event.objects.filter(case=case, kind="tasks_created").count() == 1


def test_it_waits_for_verification_before_creating_tasks(datamap, submit, run):
    case = submit("US-CA", "access")
    run(services.confirm_email, case)
    assert not Task.objects.filter(case=case).exists()


def test_it_fans_an_opt_out_out_on_receipt(datamap, submit):
    case = submit("US-CA", "opt_out_sale_sharing")  # not even confirmed: 11 CCR §7026(d)
    found = tasks(case)
    assert set(found) == {"Marketing"}
    assert found["Marketing"].action == "suppress"


def test_it_creates_each_task_once(datamap, worked, run):
    from requests_app.fulfilment import services as fs

    case = worked("US-CA", "access")
    run(fs.fan_out, case)
    assert Task.objects.filter(case=case).count() == 3


def test_it_sends_the_vendor_a_single_use_link_and_the_owner_a_list(datamap, worked, mailoutbox):
    worked("US-CA", "access")
    vendor = [m for m in mailoutbox if m.to == ["dpo@fastship.example"]]
    owner = [m for m in mailoutbox if m.to == ["olga@example.com"]]
    assert len(vendor) == 1 and "/fulfilment/vendor/" in vendor[0].body
    assert len(owner) == 1 and "Accounts" in owner[0].body and "Orders" in owner[0].body


def test_its_due_date_is_a_share_of_the_time_left_before_the_review_margin(datamap, worked, settings):
    settings.DSAR_TASK_DUE_SHARE = 0.5
    settings.DSAR_TASK_REVIEW_MARGIN_DAYS = 3
    case = worked("US-CA", "access")
    legal = respond(case).due_at  # 16 April 2026, end of day in California
    task = tasks(case)["Accounts"]
    assert task.legal_due_at == legal
    assert task.due_at == T0 + (legal - T0) / 2
    settings.DSAR_TASK_DUE_SHARE = 1.0
    case2 = worked("US-CA", "deletion", requester_email="bo@example.com")
    assert tasks(case2)["Accounts"].due_at == respond(case2).due_at - dt.timedelta(days=3)


def test_it_moves_the_due_dates_when_the_clock_is_extended(datamap, worked, run, manager, now):
    case = worked("US-CA", "access")
    before = tasks(case)["Accounts"].due_at
    now(T0 + dt.timedelta(days=30))
    run(services.extend_deadline, case, manager, reason="Ten systems and three processors to search")
    task = tasks(case)["Accounts"]
    legal = respond(case).due_at
    assert legal.date() == dt.date(2026, 5, 31) + dt.timedelta(days=1)  # 31 May, end of day PDT = 1 June UTC
    assert task.legal_due_at == legal
    assert task.due_at == (T0 + dt.timedelta(days=30)) + (legal - (T0 + dt.timedelta(days=30))) / 2
    assert task.due_at > before
    assert Event.objects.filter(case=case, kind="task_due_recomputed", data__cause="deadline_extended").exists()


def test_it_keeps_due_dates_while_a_uk_clock_is_paused_and_moves_them_when_it_runs_again(datamap, worked, run,
                                                                                         manager, now):
    case = worked("GB", "access")
    first = tasks(case)["Accounts"]
    now(T0 + dt.timedelta(days=5))
    run(services.request_information, case, manager, what="clarification", message="Which account?")
    assert tasks(case)["Accounts"].due_at == first.due_at  # paused: no end date to derive from
    now(T0 + dt.timedelta(days=15))
    run(services.receive_reply, case, message="The one with my work address")
    legal = respond(case).due_at
    # UK GDPR Art. 12A(4): the 10 paused days are added: 2 April + 10 = Sunday 12 April, rolled to Monday.
    assert legal.date() == dt.date(2026, 4, 13) and first.legal_due_at.date() == dt.date(2026, 4, 2)
    task = tasks(case)["Accounts"]
    assert task.legal_due_at == legal
    assert task.due_at == (T0 + dt.timedelta(days=15)) + (legal - (T0 + dt.timedelta(days=15))) / 2


def test_it_follows_the_mexican_phases(datamap, worked, run, manager, now):
    case = worked("MX", "access")
    task = tasks(case)["Accounts"]
    assert task.legal_due_at == respond(case, "determination").due_at  # the earlier clock while admissibility is open
    now(T0 + dt.timedelta(days=7))
    run(services.determine, case, manager, admissible=True)
    effective = respond(case, "effective")
    task = tasks(case)["Accounts"]
    assert task.legal_due_at == effective.due_at
    assert task.due_at <= effective.due_at - dt.timedelta(days=3)


def test_a_denial_closes_the_open_tasks(datamap, worked, run, manager):
    case = worked("US-CA", "access")
    run(services.deny, case, manager, reasons="Not a consumer", decision={"basis": "not_consumer"})
    assert {t.state for t in tasks(case).values()} == {"not_applicable"}
