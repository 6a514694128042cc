"""The connector page: managers only; secrets are stored encrypted and never shown back; a
statement that formats identities into the SQL is refused on save; the read-only test shows
counts, not rows."""
import pytest

from requests_app.connectors.models import Connector, Statement
from requests_app.fulfilment.models import DataSystem

pytestmark = pytest.mark.django_db
URL = "sqlite:////tmp/secret-shop-password-xyz.sqlite3"


@pytest.fixture
def system(db):
    return DataSystem.objects.create(name="Shop orders", owner_email="data@example.com", request_kinds=["access"])


def test_it_lets_only_managers_configure_connectors(system, client, analyst):
    client.force_login(analyst)
    assert client.get(f"/connectors/staff/systems/{system.pk}/connector/").status_code == 403


def test_it_stores_the_url_encrypted_and_never_shows_it_back(system, client, manager):
    client.force_login(manager)
    response = client.post(f"/connectors/staff/systems/{system.pk}/connector/", {
        "do": "save", "c-kind": "sql", "c-url": URL, "c-timeout_seconds": 30, "c-max_rows": 100, "c-enabled": "on"})
    assert response.status_code == 302
    connector = Connector.objects.get(system=system)
    assert connector.url == URL and "secret-shop" not in connector.url_encrypted
    system.refresh_from_db()
    assert system.work_mode == "connector"
    page = client.get(f"/connectors/staff/systems/{system.pk}/connector/").content.decode()
    assert "secret-shop-password" not in page and connector.url_encrypted not in page and "stored encrypted" in page


def test_it_refuses_a_statement_that_formats_the_identity(system, client, manager, tmp_path):
    connector = Connector(system=system, kind="sql")
    connector.set_url(f"sqlite:///{tmp_path}/x.sqlite3")
    connector.save()
    client.force_login(manager)
    page = f"/connectors/staff/systems/{system.pk}/connector/"
    for sql in ("SELECT * FROM orders WHERE email = '%(email)s'", "SELECT * FROM orders WHERE email = '{email}'",
                "SELECT * FROM orders WHERE email = %s", "SELECT * FROM orders WHERE email = '' || %(email)s; DROP "
                "TABLE orders"):
        response = client.post(page, {"do": "add", "s-action": "collect", "s-label": "orders", "s-sql": sql,
                                      "s-position": 0})
        assert response.status_code == 400, sql
    assert not Statement.objects.exists()
    ok = client.post(page, {"do": "add", "s-action": "collect", "s-label": "orders", "s-position": 0,
                            "s-sql": "SELECT * FROM orders WHERE email = %(email)s"})
    assert ok.status_code == 302, ok.context["statement_form"].errors
    assert Statement.objects.count() == 1


@pytest.mark.parametrize("dialect", ["sqlite"])  # the page is the same for every dialect
def test_it_tests_read_only_and_shows_counts_not_rows(shop_systems, client, manager, dialect):
    system = shop_systems[0]
    client.force_login(manager)
    html = client.post(f"/connectors/staff/systems/{system.pk}/connector/", {
        "do": "test", "t-email": "ana@example.com"}).content.decode()
    assert 'id="test-results"' in html and "customer" in html
    assert "1 Market St" not in html and "Ana Example" not in html


def test_it_flags_a_failed_connector_on_the_queue_in_one_query(client, manager, submit, django_assert_max_num_queries,
                                                               settings):
    from requests_app.connectors.models import Run
    from requests_app.fulfilment.models import Task

    system = DataSystem.objects.create(name="Shop orders", owner_email="d@example.com", request_kinds=["access"],
                                       work_mode="connector")
    connector = Connector(system=system, kind="sql")
    connector.set_url("postgresql://nobody@127.0.0.1:1/none")
    connector.save()
    client.force_login(manager)
    cases = [submit("US-CA", "access", requester_email=f"p{i}@example.com") for i in range(3)]
    for case in cases:
        task = Task.objects.create(case=case, system=system, action="collect", due_at=case.received_at)
        Run.objects.create(task=task, connector=connector, state="failed" if case is cases[0] else "succeeded")
    client.get("/staff/")  # warm
    with django_assert_max_num_queries(30) as captured:
        html = client.get("/staff/").content.decode()
    assert html.count("connector failed") == 1
    assert sum("connectors_run" in q["sql"] for q in captured.captured_queries) == 1


@pytest.mark.parametrize("dialect", ["sqlite"])
def test_it_costs_the_case_page_the_same_however_many_connector_runs(shop_systems, worked, client, manager, dialect):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def cost(case):
        client.get(f"/staff/cases/{case.pk}/")
        with CaptureQueriesContext(connection) as ctx:
            html = client.get(f"/staff/cases/{case.pk}/").content.decode()
        return len([q for q in ctx.captured_queries if "connectors_" in q["sql"]]), html

    client.force_login(manager)
    for system in shop_systems[1:]:
        system.request_kinds = ["correction"]
        system.save()
    one = worked(request_type="deletion", requester_email="ben@example.com")
    for system in shop_systems[1:]:
        system.request_kinds = ["deletion"]
        system.save()
    four = worked(request_type="deletion", requester_email="ana@example.com")
    (n_one, _), (n_four, html) = cost(one), cost(four)
    assert n_one == n_four and html.count("row(s) would change") == 4


@pytest.mark.parametrize("dialect", ["sqlite"])
def test_it_erases_from_the_case_page_after_a_second_persons_approval(shop_systems, worked, client, analyst, manager,
                                                                      dialect, django_capture_on_commit_callbacks):
    from requests_app.connectors.models import Run
    from requests_app.fulfilment.models import Task

    for system in shop_systems[1:]:
        system.active = False
        system.save()
    case = worked(request_type="deletion", requester_email="ana@example.com", assignee=analyst)
    run = Run.objects.get(task__case=case)
    client.force_login(analyst)
    html = client.get(f"/staff/cases/{case.pk}/").content.decode()
    assert "customer: 1 row(s) would change" in html and "needs a second person" in html
    client.post(f"/connectors/staff/runs/{run.pk}/erase/")
    assert client.post(f"/connectors/staff/runs/{run.pk}/approve/").status_code == 403  # not by the same person
    assert client.post(f"/connectors/staff/runs/{run.pk}/nonsense/").status_code == 404
    client.force_login(manager)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/connectors/staff/runs/{run.pk}/approve/")
    task = Task.objects.get(case=case)
    assert (task.state, task.records_affected) == ("done", 1)
