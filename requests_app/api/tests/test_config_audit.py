"""Creating and revoking API keys is in the configuration audit: who, which key, which fields,
never the key or its hash; rolled back with the change."""
import io

from django.core.management import call_command
from django.urls import reverse

from requests_app.api import services
from requests_app.api.models import ApiKey
from requests_app.models import ConfigChange
from tests.config_audit import assert_no_secret, only_entry, rolled_back


def test_it_audits_a_key_created_on_the_staff_page_without_its_value(client, manager):
    client.force_login(manager)
    response = client.post(reverse("api_staff:keys"), {"name": "ticketing sync", "role": "analyst"})
    assert response.status_code == 200
    key, raw = ApiKey.objects.get(), response.context["raw"]
    entry = only_entry(actor=manager, actor_label="mia", action="created", object_type="api.apikey",
                       object_id=str(key.pk))
    assert entry.fields == ["name", "role"] and entry.data["role"] == "analyst"
    assert "ticketing sync" in entry.object_repr
    assert_no_secret(entry, raw, raw.rsplit("_", 1)[1], key.secret_hash)


def test_it_audits_a_key_revoked_on_the_staff_page(client, manager):
    key, raw = services.create_key(name="crm", role="auditor", created_by=manager)
    first = ConfigChange.objects.get()
    client.force_login(manager)
    assert client.post(reverse("api_staff:revoke", args=[key.pk])).status_code == 302
    entry = ConfigChange.objects.exclude(pk=first.pk).get()
    assert (entry.actor, entry.action, entry.object_id) == (manager, "revoked", str(key.pk))
    assert entry.fields == ["revoked_at", "revoked_by"]
    assert_no_secret(entry, raw, key.secret_hash)
    client.post(reverse("api_staff:revoke", args=[key.pk]))  # already revoked: no change, no entry
    assert ConfigChange.objects.count() == 2


def test_it_names_the_command_that_created_or_revoked_a_key(db):
    out = io.StringIO()
    call_command("api_key", "create", "--name", "nightly export", "--role", "auditor", stdout=out, stderr=io.StringIO())
    raw = out.getvalue().strip()
    entry = only_entry(actor=None, actor_label="manage.py api_key", action="created")
    assert_no_secret(entry, raw)
    call_command("api_key", "revoke", "nightly export", stdout=io.StringIO())
    assert ConfigChange.objects.filter(action="revoked", actor_label="manage.py api_key").count() == 1


def test_it_leaves_no_entry_when_the_key_is_rolled_back(manager):
    rolled_back(lambda: services.create_key(name="gone", role="analyst", created_by=manager))
    assert not ApiKey.objects.exists()
