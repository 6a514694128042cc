"""DRP agents in the configuration audit: registered, updated (a rotated key), removed, their
callbacks sent again; from the staff page (the manager) or `manage.py drp_agent` (the command);
rolled back with the change."""
import json

from django.core.management import call_command
from django.db import transaction

from requests_app import services as core
from requests_app.drp import services
from requests_app.drp.agent_client import AgentClient
from requests_app.drp.models import Agent, CallbackStatus, DrpRequest, StatusCallback
from requests_app.models import ConfigChange
from tests.config_audit import only_entry, rolled_back

PAGE = "/staff/drp/agents/"


def test_it_audits_an_agent_registered_on_the_staff_page(client, manager):
    client.force_login(manager)
    entry = AgentClient("PERMISSION_SLIP").directory_entry(name="Permission Slip")
    assert client.post(PAGE, {"entry": json.dumps(entry)}).status_code == 302
    agent = Agent.objects.get()
    audit = only_entry(actor=manager, action="registered", object_type="drp.agent", object_id=str(agent.pk))
    assert {"agent_id", "name", "verify_key", "active"} <= set(audit.fields)
    assert "Permission Slip" in audit.object_repr


def test_it_audits_a_rotated_key_and_a_removal_with_the_fields_that_changed(client, manager):
    old = AgentClient("PERMISSION_SLIP")
    with transaction.atomic():
        services.register_agent(old.directory_entry(), user=manager)
    agent = Agent.objects.get()
    agent.tokens.create(token_hash="1" * 64)
    client.force_login(manager)
    rotated = AgentClient("PERMISSION_SLIP").directory_entry()  # a new key pair, same agent
    assert client.post(PAGE, {"entry": json.dumps(rotated)}).status_code == 302
    update = ConfigChange.objects.get(action="updated")
    assert (update.actor, update.data) == (manager, {"pairings_ended": 1})
    assert update.fields == ["directory_entry", "verify_key"]
    client.post(PAGE, {"entry": json.dumps(rotated)})  # the same entry again: nothing changed, no entry
    assert client.post(f"{PAGE}PERMISSION_SLIP/remove/").status_code == 302
    removal = ConfigChange.objects.get(action="removed")
    assert (removal.actor, removal.fields) == (manager, ["active"])
    assert list(ConfigChange.objects.order_by("id").values_list("action", flat=True)) == [
        "registered", "updated", "removed"]


def test_it_names_the_command_that_added_or_removed_an_agent(db, tmp_path, capsys):
    path = tmp_path / "entry.json"
    path.write_text(json.dumps(AgentClient("PERMISSION_SLIP").directory_entry()))
    call_command("drp_agent", "add", str(path))
    only_entry(actor=None, actor_label="manage.py drp_agent", action="registered")
    call_command("drp_agent", "remove", "PERMISSION_SLIP")
    assert ConfigChange.objects.get(action="removed").actor_label == "manage.py drp_agent"


def test_it_audits_callbacks_sent_again(agent, api, run, client, manager, django_capture_on_commit_callbacks):
    body = agent.file(api, exercise="deletion", status_callback="http://127.0.0.1:9/cb").json()
    drp = DrpRequest.objects.select_related("case").get(request_id=body["request_id"])
    run(core.confirm_email, drp.case)
    StatusCallback.objects.update(status=CallbackStatus.FAILED)
    client.force_login(manager)
    with django_capture_on_commit_callbacks():
        assert client.post(f"{PAGE}PERMISSION_SLIP/retry/").status_code == 302
    entry = ConfigChange.objects.get(action="callbacks_retried")
    assert (entry.actor, entry.data) == (manager, {"callbacks": StatusCallback.objects.count()})


def test_it_leaves_no_entry_when_the_registration_is_rolled_back(manager):
    rolled_back(lambda: services.register_agent(AgentClient("GONE").directory_entry(), user=manager))
    assert not Agent.objects.exists()
