"""The issue's "done when": an access request at a marketplace with ten systems and three processors
is worked end to end; each owner knows what is theirs and by when; the person gets their data in
one package with a letter that says where it came from."""
import datetime as dt
import io
import json
import zipfile

import pytest
from django.urls import reverse

from requests_app import services
from requests_app.fulfilment import services as fs
from requests_app.fulfilment.exports import Export
from requests_app.fulfilment.models import AccessPackage, DataSystem, Task
from requests_app.models import Event, Letter, Notification
from tests.fixtures import make_user

T0 = dt.datetime(2026, 3, 2, 17, 0, tzinfo=dt.timezone.utc)
pytestmark = pytest.mark.usefixtures("now")
OURS = ["Accounts", "Orders", "Payments", "Support", "Marketing", "Reviews", "Wishlist", "Logins",
        "Recommendations", "Logs"]
PROCESSORS = [("Courier", "FastShip Ltd"), ("Payment provider", "PayCo"), ("Ad network", "AdCo")]


def test_a_marketplace_access_request_end_to_end(worked, run, manager, client):
    owners = [make_user(f"owner{i}", "analyst") for i in range(3)]
    for i, name in enumerate(OURS):
        DataSystem.objects.create(name=name, owner=owners[i % 3], categories=["identifiers", "commercial"],
                                  request_kinds=["access", "deletion"], sources=f"{name} records",
                                  purposes=f"Running {name.lower()}", recipients="Our hosting provider")
    for name, vendor in PROCESSORS:
        DataSystem.objects.create(name=name, kind="processor", vendor_name=vendor, work_mode="vendor",
                                  vendor_email=f"privacy@{vendor.split()[0].lower()}.example",
                                  categories=["geolocation"], request_kinds=["access"], sources="Our platform",
                                  purposes="Delivery and payments", recipients=vendor)
    case = worked("US-CA", "access")
    tasks = list(Task.objects.filter(case=case).select_related("system", "assignee"))
    assert len(tasks) == 13
    # each owner heard of their own tasks, with the due date; each vendor got its own link
    assigned = Notification.objects.filter(kind="fulfilment_tasks_assigned")
    assert sorted(n.to[0] for n in assigned) == sorted(o.email for o in owners)
    assert Notification.objects.filter(kind="fulfilment_vendor_request").count() == 3
    for owner in owners:
        client.force_login(owner)
        page = client.get(reverse("fulfilment:my_tasks")).content.decode()
        mine = [t.system.name for t in tasks if t.assignee_id == owner.pk]
        assert all(name in page for name in mine)
        assert not any(t.system.name in page for t in tasks if t.assignee_id not in (owner.pk, None)
                       and t.system.name not in mine)
    for t in tasks:
        fs.answer_task(t, fs.Answer("done", export=Export(f"{t.system.name}.json", "json", json.dumps(
            {"system": t.system.name, "rows": [{"id": 1}]}).encode())), user=t.assignee,
            actor_label="" if t.assignee else f"vendor {t.system.vendor_name}", via="staff" if t.assignee else "vendor")
    run(services.fulfil, case, manager, decision={})
    package = AccessPackage.objects.get(case=case)
    manifest = json.loads(zipfile.ZipFile(io.BytesIO(package.file.read())).read("manifest.json"))
    assert len(manifest["systems"]) == 13
    letter = Letter.objects.get(case=case, kind="fulfilment")
    assert "Courier" in letter.context["package"]["text"] and "Orders records" in letter.context["sources"]
    assert Event.objects.filter(case=case, kind="task_answered").count() == 13


def test_a_manager_reassigns_a_task_and_the_new_owner_hears_of_it(client, datamap, worked, manager):
    case = worked("US-CA", "access")
    t = Task.objects.get(case=case, system__name="Orders")
    newcomer = make_user("nina", "analyst")
    client.force_login(manager)
    client.post(reverse("fulfilment:task_reassign", args=[t.pk]), {"assignee": str(newcomer.pk)})
    assert Task.objects.get(pk=t.pk).assignee == newcomer
    assert Event.objects.get(case=case, kind="task_reassigned").data["to"] == "nina"
    assert Notification.objects.filter(kind="fulfilment_tasks_assigned", to=["nina@example.com"]).exists()
    client.force_login(newcomer)
    assert client.post(reverse("fulfilment:task_reassign", args=[t.pk]), {"assignee": "none"}).status_code == 403
