"""The data map in the configuration audit: a data system (ours or a processor's) created or
changed by a manager, with the fields that changed and the old and new values of those that route
work; rolled back with the change."""
from django.urls import reverse

from requests_app.fulfilment import services
from requests_app.fulfilment.models import DataSystem
from requests_app.models import ConfigChange
from tests.config_audit import only_entry, rolled_back

PAYMENTS = {"name": "Payments", "kind": "processor", "vendor_name": "PayCo", "vendor_email": "privacy@payco.example",
            "work_mode": "vendor", "categories": ["commercial"], "request_kinds": ["access", "deletion"],
            "active": "on"}


def test_it_audits_a_processor_added_to_the_data_map(client, manager):
    client.force_login(manager)
    assert client.post(reverse("fulfilment:system_new"), PAYMENTS).status_code == 302
    system = DataSystem.objects.get()
    entry = only_entry(actor=manager, action="created", object_type="fulfilment.datasystem",
                       object_id=str(system.pk), object_repr="Payments")
    assert {"name", "kind", "vendor_name", "vendor_email", "work_mode", "categories", "request_kinds",
            "active"} <= set(entry.fields)
    assert entry.data["work_mode"] == "vendor" and entry.data["request_kinds"] == ["access", "deletion"]


def test_it_audits_the_fields_that_changed(client, manager, analyst):
    system = DataSystem.objects.create(name="Payments", kind="processor", vendor_name="PayCo",
                                       vendor_email="privacy@payco.example", work_mode="vendor",
                                       categories=["commercial"], request_kinds=["access", "deletion"])
    client.force_login(manager)
    changed = {**PAYMENTS, "work_mode": "manual", "owner": analyst.pk, "purposes": "billing"}
    assert client.post(reverse("fulfilment:system_edit", args=[system.pk]), changed).status_code == 302
    entry = only_entry(actor=manager, action="updated", object_id=str(system.pk))
    assert entry.fields == ["owner", "purposes", "work_mode"]
    assert entry.data == {"owner": [None, analyst.pk], "work_mode": ["vendor", "manual"]}
    client.post(reverse("fulfilment:system_edit", args=[system.pk]), changed)  # saved unchanged: no entry
    assert ConfigChange.objects.count() == 1


def test_it_leaves_no_entry_when_the_system_is_rolled_back(manager):
    rolled_back(lambda: services.save_system(DataSystem(name="Gone", owner_email="t@example.com"), manager))
    assert not DataSystem.objects.exists()
