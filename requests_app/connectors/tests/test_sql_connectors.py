"""SQL connectors against real PostgreSQL and MariaDB (and SQLite, the demo's dialect): collect,
erase and correct for a seeded identity, each recorded; injection in every identity field; one
transaction per system; timeouts and size limits; the read-only test."""
import json

import pytest
from django.db.models import Q

from requests_app.connectors import engine, services, shop
from requests_app.connectors.models import Run, RunState, Statement
from requests_app.fulfilment.models import Task
from requests_app.models import DataSubjectRequest, Event

from .conftest import query

pytestmark = pytest.mark.django_db


def tasks_of(case):
    return {t.system.name: t for t in Task.objects.filter(case=case).select_related("system", "connector_run")}


def test_it_collects_every_shop_system_for_a_verified_access_request(shop_systems, worked):
    case = worked(requester_email="ana@example.com")
    tasks = tasks_of(case)
    assert {n: t.state for n, t in tasks.items()} == {n: "done" for n in shop.SYSTEMS}
    orders = tasks["Shop orders"]
    data = json.loads(orders.files.get().file.read())
    assert [row["item"] for row in data["orders"]] == ["Phone case", "USB cable"]
    assert orders.completed_label == "connector:Shop orders"
    answered = Event.objects.get(case=case, kind="task_answered", data__task=orders.pk)
    assert answered.data["statements"][0]["rows"] == 2 and answered.data["via"] == "connector"


def test_it_records_no_data_when_the_shop_does_not_know_the_person(shop_systems, worked):
    case = worked(requester_email="nobody@example.com")
    assert {t.state for t in tasks_of(case).values()} == {"no_data"}


def _request_and_approve(case, analyst, manager, run_):
    for run in Run.objects.filter(task__case=case):
        run.refresh_from_db()
        assert run.dry_run is not None  # the dry run ran first, on creation
        run_(services.request_erasure, run, analyst)
        run_(services.approve_erasure, run, manager)


def test_it_erases_after_a_dry_run_and_a_second_persons_approval(shop_systems, worked, shop_url, analyst,
                                                                  manager, run):
    case = worked(request_type="deletion", requester_email="ana@example.com", assignee=analyst)
    runs = {r.task.system.name: r for r in Run.objects.filter(task__case=case).select_related("task__system")}
    assert runs["Shop orders"].dry_run[0]["rows"] == 2
    assert query(shop_url, "SELECT COUNT(*) FROM orders WHERE customer_email = %(e)s", {"e": "ana@example.com"}) == [(2,)]
    _request_and_approve(case, analyst, manager, run)
    tasks = tasks_of(case)
    assert {n: (t.state, t.records_affected) for n, t in tasks.items()} == {
        "Shop accounts": ("done", 1), "Shop orders": ("done", 2), "Shop support": ("done", 1),
        "Shop marketing": ("done", 1)}
    assert query(shop_url, "SELECT COUNT(*) FROM orders WHERE customer_email = %(e)s", {"e": "ana@example.com"}) == [(0,)]
    assert query(shop_url, "SELECT COUNT(*) FROM orders", {}) == [(4,)]  # anonymised, kept for tax
    assert query(shop_url, "SELECT COUNT(*) FROM customers WHERE email = %(e)s", {"e": "ben@example.com"}) == [(1,)]
    kinds = list(Event.objects.filter(case=case).values_list("kind", flat=True))
    assert kinds.count("connector_erasure_approved") == 4 and "connector_dry_run" in kinds


def test_it_needs_a_second_person_to_approve_an_erasure(shop_systems, worked, analyst, run):
    case = worked(request_type="deletion", assignee=analyst)
    run_ = Run.objects.filter(task__case=case).first()
    run(services.request_erasure, run_, analyst)
    with pytest.raises(Exception, match="second person"):
        services.approve_erasure(run_, analyst)
    run_.refresh_from_db()
    assert run_.state == RunState.PENDING and Event.objects.filter(kind="connector_approval_refused").exists()


def test_it_refuses_erasure_by_connector_without_a_verified_case(shop_systems, worked, analyst, run):
    case = worked(request_type="deletion", assignee=analyst)
    run_ = Run.objects.filter(task__case=case).first()
    DataSubjectRequest.objects.filter(pk=case.pk).update(verified_at=None)
    with pytest.raises(services.ServiceError, match="verified"):
        services.request_erasure(run_, analyst)


def test_it_corrects_with_the_values_the_analyst_entered(shop_systems, worked, shop_url, analyst, run):
    case = worked(request_type="correction", requester_email="ana@example.com", assignee=analyst)
    run_ = Run.objects.get(task__case=case)
    assert run_.state == RunState.PENDING
    run(services.request_correction, run_, analyst, {"new_address": "9 Mission St, San Francisco"})
    task = Task.objects.get(case=case)
    assert (task.state, task.records_affected) == ("done", 1)
    assert query(shop_url, "SELECT address, name FROM customers WHERE email = %(e)s", {"e": "ana@example.com"}) == [
        ("9 Mission St, San Francisco", "Ana Example")]
    event = Event.objects.get(case=case, kind="connector_correction_requested")
    assert event.data["fields"] == ["new_address"] and "Mission" not in json.dumps(event.data)


INJECTIONS = ["x' OR '1'='1", "' OR 1=1 -- ", "'; DELETE FROM customers; --", "\\' OR 1=1 #",
              "1 OR 1=1", "%(email)s", "ana@example.com' OR 'a'='a"]


@pytest.mark.parametrize("field", ["email", "account_id", "phone"])
def test_it_treats_an_injection_in_any_identity_field_as_data(field, shop_systems, shop_url, submit, run, manager,
                                                              analyst):
    case = submit("US-CA", "deletion", requester_email="mallory@example.com")
    for attempt in INJECTIONS:
        DataSubjectRequest.objects.filter(pk=case.pk).update(
            **{"requester_email" if field == "email" else field: attempt})
        case.refresh_from_db()
        params = services.identity_params(case)
        for system in shop_systems:
            connector = system.connector
            for action in ("collect", "identity"):
                steps = services.steps_for(connector, action)
                if steps:
                    out = engine.run(connector.url, steps, params, mode="read")
                    assert out.total == 0, (attempt, system.name, action)
            out = engine.run(connector.url, services.steps_for(connector, "erase"), params, mode="write")
            assert out.total == 0, (attempt, system.name)
    assert query(shop_url, "SELECT COUNT(*) FROM customers", {}) == [(3,)]
    assert query(shop_url, "SELECT COUNT(*) FROM tickets", {}) == [(2,)]
    assert query(shop_url, "SELECT COUNT(*) FROM marketing", {}) == [(3,)]


def test_it_runs_a_systems_statements_in_one_transaction(shop_url):
    steps = [engine.Step("1", "tickets", "DELETE FROM tickets WHERE email = %(email)s"),
             engine.Step("2", "broken", "DELETE FROM no_such_table WHERE email = %(email)s")]
    with pytest.raises(engine.ConnectorError):
        engine.run(shop_url, steps, {"email": "ana@example.com"}, mode="write", ledger_key="k-1")
    assert query(shop_url, "SELECT COUNT(*) FROM tickets WHERE email = %(e)s", {"e": "ana@example.com"}) == [(1,)]


def test_it_fails_a_result_larger_than_the_limit(shop_url):
    steps = [engine.Step("1", "orders", "SELECT * FROM orders WHERE customer_email = %(email)s")]
    with pytest.raises(engine.ConnectorError, match="too large"):
        engine.run(shop_url, steps, {"email": "ana@example.com"}, mode="read", max_rows=1)


def test_it_reads_only_in_read_mode_and_dry_runs_change_nothing(shop_url):
    write = [engine.Step("1", "tickets", "DELETE FROM tickets WHERE email = %(email)s")]
    with pytest.raises(engine.ConnectorError):
        engine.run(shop_url, write, {"email": "ana@example.com"}, mode="read")
    out = engine.run(shop_url, write, {"email": "ana@example.com"}, mode="dry")
    assert out.total == 1
    assert query(shop_url, "SELECT COUNT(*) FROM tickets", {}) == [(2,)]


def test_it_stops_a_statement_at_the_timeout(shop_url, dialect):
    slow = {"postgresql": "SELECT pg_sleep(5), %(email)s",
            "mysql": "SELECT SLEEP(5), %(email)s",
            "sqlite": "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) "
                      "SELECT COUNT(*), %(email)s FROM n"}[dialect]
    with pytest.raises(engine.ConnectorError, match="timed out") as info:
        engine.run(shop_url, [engine.Step("1", "slow", slow)], {"email": "a@b.c"}, mode="read", timeout=1)
    assert info.value.transient


def test_it_fails_the_task_with_the_error_when_the_database_cannot_be_reached(shop_systems, worked, settings):
    settings.DSAR_CONNECTOR_MAX_ATTEMPTS = 2
    for system in shop_systems:
        system.connector.set_url("postgresql://nobody@127.0.0.1:1/none")
        system.connector.save()
    case = worked()
    tasks = tasks_of(case)
    assert {t.state for t in tasks.values()} == {"failed"}
    task = tasks["Shop orders"]
    assert task.reason.startswith("Connector: cannot connect") and task.reason_code == "technical"
    assert task.connector_run.attempts == 2 and task.connector_run.state == RunState.FAILED


def test_it_shows_the_test_counts_without_the_rows(shop_systems, manager, analyst):
    connector = shop_systems[1].connector  # orders
    results = services.test_connector(connector, {"email": "ana@example.com"}, manager)
    assert results == [{"label": "orders", "rows": 2, "columns": ["id", "item", "total", "placed_on"]}]
    with pytest.raises(Exception):
        services.test_connector(connector, {"email": "ana@example.com"}, analyst)


def test_it_never_keeps_a_formatted_statement(shop_systems):
    connector = shop_systems[0].connector
    with pytest.raises(Exception, match="formatted|bound"):
        Statement.objects.create(connector=connector, action="collect", label="bad",
                                 sql="SELECT * FROM customers WHERE email = '%(email)s'")
    assert not Statement.objects.filter(Q(label="bad")).exists()


def test_it_suppresses_an_opt_out_on_receipt_without_verification(shop_systems, submit, shop_url):
    case = submit("US-CA", "opt_out_sale_sharing", requester_email="ana@example.com")  # 11 CCR §7026(d)
    task = Task.objects.get(case=case)
    assert (task.system.name, task.action, task.state, task.records_affected) == ("Shop marketing", "suppress",
                                                                                 "done", 1)
    assert query(shop_url, "SELECT newsletter, ads FROM marketing WHERE email = %(e)s",
                 {"e": "ana@example.com"}) == [(0, 0)]
