"""Blocking a sender address or domain: managers only, with a reason, kept as an audit trail,
reversible."""
import logging

import pytest
from django.urls import reverse

from requests_app.intake import services
from requests_app.intake.models import BlockedSender

BLOCKED = reverse("intake:blocked")


def test_a_manager_blocks_and_lifts_a_domain_with_an_audit_trail(client, manager, caplog):
    client.force_login(manager)
    with caplog.at_level(logging.WARNING):
        assert client.post(BLOCKED, {"value": " Spam.Example ", "reason": "bulk junk"}).status_code == 302
    block = BlockedSender.objects.get()
    assert (block.value, block.reason, block.created_by) == ("spam.example", "bulk junk", manager)
    assert services.is_blocked("anyone@spam.example") and not services.is_blocked("anyone@example.com")
    assert any("blocked by mia" in r.getMessage() for r in caplog.records)
    assert client.post(reverse("intake:lift", args=[block.pk]), {"reason": "mistake"}).status_code == 302
    block.refresh_from_db()
    assert block.lifted_by == manager and block.lift_reason == "mistake" and block.lifted_at is not None
    assert not services.is_blocked("anyone@spam.example")
    # Lifted blocks stay listed; the same value can be blocked again.
    assert client.post(BLOCKED, {"value": "spam.example", "reason": "again"}).status_code == 302
    assert BlockedSender.objects.count() == 2
    assert "mistake" in client.get(BLOCKED).content.decode()


@pytest.mark.parametrize("data, message", [
    ({"value": "not an address", "reason": "x"}, "Give an e-mail address or a domain"),
    ({"value": "a@b.example", "reason": " "}, "This field is required"),
])
def test_it_refuses_a_block_without_a_valid_value_or_reason(client, manager, data, message):
    client.force_login(manager)
    response = client.post(BLOCKED, data)
    assert response.status_code == 400 and message in response.content.decode()
    assert not BlockedSender.objects.exists()


def test_it_refuses_blocking_twice(client, manager):
    client.force_login(manager)
    client.post(BLOCKED, {"value": "a@b.example", "reason": "x"})
    response = client.post(BLOCKED, {"value": "A@b.example", "reason": "y"})
    assert response.status_code == 400 and "already blocked" in response.content.decode()


@pytest.mark.parametrize("role", ["analyst", "auditor"])
def test_only_managers_block(client, request, role):
    client.force_login(request.getfixturevalue(role))
    assert client.get(BLOCKED).status_code == 403
    assert client.post(BLOCKED, {"value": "x.example", "reason": "r"}).status_code == 403
    assert not BlockedSender.objects.exists()
