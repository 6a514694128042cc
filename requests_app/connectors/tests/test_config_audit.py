"""Connectors in the configuration audit (they run SQL against production systems): saving one
(the URL and signing secret named as replaced, never shown), adding and deleting a statement
(with its SQL), running the test against a sample identity (which fields, never their values);
rolled back with the change."""
import pytest

from requests_app.connectors import services
from requests_app.connectors.models import Connector, Statement
from requests_app.fulfilment.models import DataSystem
from requests_app.models import ConfigChange
from tests.config_audit import assert_no_secret, only_entry, rolled_back

pytestmark = pytest.mark.django_db
URL = "sqlite:////tmp/secret-shop-password-xyz.sqlite3"
SQL = "SELECT id, total FROM orders WHERE email = %(email)s"


@pytest.fixture
def system(db):
    return DataSystem.objects.create(name="Shop orders", owner_email="data@example.com", request_kinds=["access"])


def page(system):
    return f"/connectors/staff/systems/{system.pk}/connector/"


@pytest.fixture
def connector(system, tmp_path):
    connector = Connector(system=system, kind="sql")
    connector.set_url(f"sqlite:///{tmp_path}/x.sqlite3")
    connector.save()
    return connector


def test_it_audits_a_connector_saved_without_its_url(system, client, manager):
    client.force_login(manager)
    client.post(page(system), {"do": "save", "c-kind": "sql", "c-url": URL, "c-timeout_seconds": 30,
                               "c-max_rows": 100, "c-enabled": "on"})
    connector = Connector.objects.get()
    created = ConfigChange.objects.get(object_type="connectors.connector")
    assert (created.actor, created.action) == (manager, "created")
    assert {"kind", "url", "max_rows", "timeout_seconds", "enabled"} <= set(created.fields)
    assert "url_encrypted" not in created.fields
    mode = ConfigChange.objects.get(object_type="fulfilment.datasystem")
    assert (mode.action, mode.fields, mode.data) == ("updated", ["work_mode"], {"work_mode": ["manual", "connector"]})
    client.post(page(system), {"do": "save", "c-kind": "sql", "c-url": "sqlite:////tmp/another-secret-pw.sqlite3",
                               "c-timeout_seconds": 30, "c-max_rows": 500, "c-enabled": "on"})
    updated = ConfigChange.objects.get(action="updated", object_type="connectors.connector")
    assert updated.fields == ["max_rows", "url"]
    for entry in ConfigChange.objects.all():
        assert_no_secret(entry, URL, "secret-shop-password", "another-secret-pw", connector.url_encrypted)


def test_it_audits_a_statement_added_with_its_sql(connector, client, manager):
    client.force_login(manager)
    response = client.post(page(connector.system), {"do": "add", "s-action": "collect", "s-label": "orders",
                                                    "s-sql": SQL, "s-position": 0})
    assert response.status_code == 302
    statement = Statement.objects.get()
    entry = only_entry(actor=manager, action="created", object_type="connectors.statement",
                       object_id=str(statement.pk))
    assert entry.data == {"system": "Shop orders", "action": "collect", "label": "orders", "position": 0, "sql": SQL}
    assert_no_secret(entry, connector.url_encrypted, str(connector.url))


def test_it_audits_a_statement_deleted_with_what_it_was(connector, client, manager):
    statement = Statement.objects.create(connector=connector, action="erase", label="customers",
                                         sql="DELETE FROM customers WHERE email = %(email)s")
    client.force_login(manager)
    assert client.post(f"/connectors/staff/statements/{statement.pk}/delete/").status_code == 302
    assert not Statement.objects.exists()
    entry = only_entry(actor=manager, action="deleted", object_id=str(statement.pk))
    assert entry.data["sql"] == "DELETE FROM customers WHERE email = %(email)s" and entry.data["action"] == "erase"


def test_it_lets_no_analyst_delete_a_statement_and_audits_nothing(connector, client, analyst):
    statement = Statement.objects.create(connector=connector, action="collect", label="x", sql=SQL)
    client.force_login(analyst)
    assert client.post(f"/connectors/staff/statements/{statement.pk}/delete/").status_code == 403
    assert Statement.objects.exists() and not ConfigChange.objects.exists()


@pytest.mark.parametrize("dialect", ["sqlite"])
def test_it_audits_a_test_run_without_the_sample_identity(shop_systems, client, manager, dialect):
    system = shop_systems[0]
    client.force_login(manager)
    html = client.post(page(system), {"do": "test", "t-email": "ana@example.com", "t-phone": "+1 555 0100"}
                       ).content.decode()
    assert 'id="test-results"' in html
    entry = only_entry(actor=manager, action="tested", object_type="connectors.connector",
                       among=ConfigChange.objects.exclude(actor_label="seed_shop"))  # the fixture's set-up
    assert entry.data["identity_fields"] == ["email", "phone"] and entry.data["outcome"] == "ran"
    assert entry.data["statements"]
    assert_no_secret(entry, "ana@example.com", "555 0100", system.connector.url)


def test_it_audits_a_failed_test_run_too(connector, client, manager):
    Statement.objects.create(connector=connector, action="collect", label="orders", sql=SQL)  # no such table
    client.force_login(manager)
    client.post(page(connector.system), {"do": "test", "t-email": "ana@example.com"})
    entry = only_entry(actor=manager, action="tested")
    assert entry.data["outcome"] == "failed" and entry.data["identity_fields"] == ["email"]
    assert_no_secret(entry, "ana@example.com")


def test_it_leaves_no_entry_when_the_statement_is_rolled_back(connector, manager):
    rolled_back(lambda: services.save_statement(connector, action="collect", label="orders", sql=SQL, user=manager))
    assert not Statement.objects.exists()


def test_the_demo_shops_configuration_is_in_the_trail_without_its_url(tmp_path):
    from requests_app.connectors import shop

    (tmp_path / "secret-shop-password-xyz.sqlite3").touch()
    url = f"sqlite:///{tmp_path}/secret-shop-password-xyz.sqlite3"
    shop.create(url)
    systems = shop.configure(url)
    entries = ConfigChange.objects.filter(actor_label="seed_shop")
    statements = Statement.objects.filter(connector__system__in=systems)
    assert {(e.object_type, e.action) for e in entries} == {
        ("fulfilment.datasystem", "created"), ("connectors.connector", "created"), ("connectors.statement", "created")}
    assert entries.filter(object_type="connectors.statement").count() == statements.count()
    assert all(e.data["sql"] for e in entries.filter(object_type="connectors.statement"))
    assert "url" in entries.filter(object_type="connectors.connector").first().fields
    for entry in entries:
        assert_no_secret(entry, "secret-shop-password-xyz")
    first = list(entries.values_list("pk", flat=True))
    # Configured again (seed_shop on every ./run.sh): only what changed (the URL, set again), and
    # the statements it replaced.
    shop.configure(url)
    again = ConfigChange.objects.filter(actor_label="seed_shop").exclude(pk__in=first)
    assert {(e.object_type, e.action) for e in again} == {
        ("connectors.connector", "updated"), ("connectors.statement", "deleted"), ("connectors.statement", "created")}
    assert {tuple(e.fields) for e in again.filter(object_type="connectors.connector")} == {("url",)}
