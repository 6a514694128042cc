"""Agents are registered by a manager: the staff page and `manage.py drp_agent`."""
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from requests_app.drp.agent_client import AgentClient
from requests_app.drp.models import Agent

PAGE = "/staff/drp/agents/"


def entry_json(agent_id="PERMISSION_SLIP", **overrides):
    return json.dumps(AgentClient(agent_id).directory_entry(name="Permission Slip", **overrides))


def test_it_lets_a_manager_register_and_remove_an_agent(client, manager):
    client.force_login(manager)
    response = client.post(PAGE, {"entry": entry_json()})
    assert response.status_code == 302
    agent = Agent.objects.get(agent_id="PERMISSION_SLIP")
    assert (agent.name, agent.registered_by, agent.contact_email) == ("Permission Slip", manager,
                                                                      "privacy@agent.example.org")
    page = client.get(PAGE).content.decode()
    assert "PERMISSION_SLIP" in page and "AE_PRIVACY" in page
    agent.tokens.create(token_hash="1" * 64)
    assert client.post(f"{PAGE}PERMISSION_SLIP/remove/").status_code == 302
    agent.refresh_from_db()
    assert not agent.active and not agent.tokens.exists()


@pytest.mark.parametrize("text, complaint", [
    ("{not json", "Not valid JSON"),
    (entry_json(id="lower"), "does not match"),
    (entry_json(verify_key="QUJD"), "32-byte"),
])
def test_it_shows_why_an_entry_is_refused_and_registers_nothing(client, manager, text, complaint):
    client.force_login(manager)
    response = client.post(PAGE, {"entry": text})
    assert response.status_code == 400 and complaint in response.content.decode()
    assert not Agent.objects.exists()


def test_it_shows_agents_to_auditors_but_lets_only_managers_change_them(client, analyst, auditor):
    client.force_login(auditor)
    assert client.get(PAGE).status_code == 200
    assert client.post(PAGE, {"entry": entry_json()}).status_code == 403
    client.force_login(analyst)
    assert client.post(PAGE, {"entry": entry_json()}).status_code == 403
    assert client.post(f"{PAGE}PERMISSION_SLIP/retry/").status_code == 403
    assert client.post(f"{PAGE}PERMISSION_SLIP/remove/").status_code == 403
    assert not Agent.objects.exists()
    client.logout()
    assert client.get(PAGE).status_code == 302  # to the login page


def test_it_manages_agents_from_the_command_line(db, tmp_path, capsys):
    path = tmp_path / "entry.json"
    path.write_text(entry_json())
    call_command("drp_agent", "add", str(path))
    call_command("drp_agent", "list")
    out = capsys.readouterr().out
    assert "registered PERMISSION_SLIP" in out and "PERMISSION_SLIP\tPermission Slip" in out
    call_command("drp_agent", "remove", "PERMISSION_SLIP")
    assert not Agent.objects.get().active
    bad = tmp_path / "bad.json"
    bad.write_text(entry_json("OTHER", web_url="ftp://x"))
    with pytest.raises(CommandError, match="web_url"):
        call_command("drp_agent", "add", str(bad))
    with pytest.raises(CommandError, match="no agent"):
        call_command("drp_agent", "remove", "NOBODY")


def test_it_lists_agents_in_a_constant_number_of_queries(client, manager, django_assert_max_num_queries):
    from requests_app.drp import services

    for n in range(12):
        services.register_agent(AgentClient(f"AGENT_{chr(65 + n)}").directory_entry())
    client.force_login(manager)
    with django_assert_max_num_queries(8):
        assert client.get(PAGE).status_code == 200


def test_it_gives_the_bench_a_registered_agent_that_files_signed_requests(db, client, django_capture_on_commit_callbacks):
    from requests_app.drp.agent_client import BenchAgent
    from requests_app.drp.models import DrpRequest

    bench = BenchAgent.register()
    with django_capture_on_commit_callbacks(execute=True):
        assert bench.pair(client).status_code == 200
        first = bench.file(client, email="b1@example.com")
        second = bench.file(client, email="b1@example.com")
    assert first.status_code == second.status_code == 200
    assert DrpRequest.objects.filter(agent__agent_id=bench.agent_id).count() == 2
