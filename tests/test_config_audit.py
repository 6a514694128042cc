"""The configuration audit (requests_app/configaudit.py): append-only, in the change's transaction,
no secrets, and its staff page for managers and auditors only, a constant number of queries a page."""
import pytest
from django.contrib.auth.models import Group, User
from django.db import transaction
from django.test.utils import CaptureQueriesContext
from django.db import connection
from django.urls import reverse

from requests_app import configaudit
from requests_app.models import ConfigChange
from tests.fixtures import make_user

PAGE = reverse("staff:config_audit")


def _entry(user, obj=None, action="updated", **kw):
    with transaction.atomic():
        return configaudit.record(obj or user, action, user=user, **kw)


def test_it_records_who_what_and_which_fields(manager):
    entry = _entry(manager, fields=["email", "first_name", "email"], data={"role": "manager"})
    assert (entry.actor, entry.actor_label, entry.action) == (manager, "mia", "updated")
    assert (entry.object_type, entry.object_id, entry.object_repr) == ("auth.user", str(manager.pk), "mia")
    assert entry.fields == ["email", "first_name"] and entry.data == {"role": "manager"}


def test_it_names_a_command_when_there_is_no_user(manager):
    with transaction.atomic():
        entry = configaudit.record(manager, "created", actor="manage.py api_key")
    assert entry.actor is None and entry.actor_label == "manage.py api_key"


@pytest.mark.django_db(transaction=True)  # autocommit, as a caller that forgot its transaction
def test_it_refuses_an_entry_outside_the_transaction_of_the_change(manager):
    with pytest.raises(RuntimeError, match="inside the transaction"):
        configaudit.record(manager, "updated", user=manager)
    assert not ConfigChange.objects.exists()


@pytest.mark.parametrize("key", ["secret", "password", "token", "secret_hash", "api_key", "url_encrypted"])
def test_it_refuses_a_secret_in_the_details(manager, key):
    with pytest.raises(ValueError, match="no secrets"):
        _entry(manager, data={"nested": {key: "x"}})
    assert not ConfigChange.objects.exists()


def test_it_is_append_only(manager):
    entry = _entry(manager)
    entry.action = "nothing happened"
    with pytest.raises(PermissionError):
        entry.save()
    with pytest.raises(PermissionError):
        entry.delete()
    with pytest.raises(PermissionError):
        ConfigChange.objects.filter(pk=entry.pk).update(action="x")
    with pytest.raises(PermissionError):
        ConfigChange.objects.all().delete()
    with pytest.raises(PermissionError), transaction.atomic():  # bulk_update's own block breaks
        ConfigChange.objects.bulk_update([entry], ["action"])
    assert ConfigChange.objects.get().action == "updated"


def test_it_keeps_the_audit_read_only_in_admin(client, manager):
    _entry(manager)
    User.objects.create_superuser("root", "root@example.com", "pw-123456789")
    client.login(username="root", password="pw-123456789")
    entry = ConfigChange.objects.get()
    assert client.get(reverse("admin:requests_app_configchange_changelist")).status_code == 200
    assert client.post(reverse("admin:requests_app_configchange_delete", args=[entry.pk]),
                       {"post": "yes"}).status_code == 403
    assert client.get(reverse("admin:requests_app_configchange_add")).status_code == 403
    assert ConfigChange.objects.count() == 1


def test_it_shows_the_audit_to_managers_and_auditors(client, manager, auditor):
    _entry(manager, fields=["max_rows"])
    for user in (manager, auditor):
        client.force_login(user)
        page = client.get(PAGE)
        assert page.status_code == 200
        html = page.content.decode()
        assert "max_rows" in html and "mia" in html
        assert f'href="{PAGE}"' in client.get(reverse("staff:queue")).content.decode()  # in the navigation


def test_it_refuses_the_audit_to_analysts_and_sends_anonymous_users_to_sign_in(client, analyst):
    response = client.get(PAGE)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/?next=")
    client.force_login(analyst)
    assert client.get(PAGE).status_code == 403
    assert f'href="{PAGE}"' not in client.get(reverse("staff:queue")).content.decode()


def test_it_filters_by_object_type(client, manager, auditor):
    _entry(manager, fields=["email"])  # auth.user
    with transaction.atomic():
        configaudit.record(Group.objects.get(name="manager"), "updated", user=manager, fields=["permissions"])
    client.force_login(auditor)
    html = client.get(PAGE, {"type": "auth.group"}).content.decode()
    assert "permissions" in html and "<td>email</td>" not in html
    assert 'value="auth.group" selected' in html and 'value="auth.user"' in html
    everything = client.get(PAGE, {"type": "no.such"}).content.decode()  # unknown: everything
    assert "permissions" in everything and "<td>email</td>" in everything


def test_it_pages_the_audit_in_a_constant_number_of_queries(client, auditor, manager):
    _entry(manager)
    client.force_login(auditor)
    client.get(PAGE)  # warm the session and permission caches

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(PAGE).status_code == 200
        return len(ctx)

    one = queries()
    others = [make_user(f"user{i}", "analyst") for i in range(60)]
    for user in others:
        _entry(manager, obj=user, fields=["groups"])
    many = queries()
    assert many == one, (one, many)
    assert ConfigChange.objects.count() == 61
    second = client.get(PAGE, {"page": 2}).content.decode()
    assert "Page 2 of 2" in second


def test_it_gives_existing_manager_and_auditor_groups_the_permission(db):
    from importlib import import_module

    from django.apps import apps
    from django.contrib.auth.models import Permission

    from requests_app.roles import ensure_roles

    groups = ensure_roles()
    permission = Permission.objects.get(codename="view_configchange")
    for group in groups.values():
        group.permissions.remove(permission)  # as the groups were before this change
    import_module("requests_app.migrations.0006_config_audit_roles").grant(apps, None)
    assert {g.name for g in permission.group_set.all()} == {"manager", "auditor"}
