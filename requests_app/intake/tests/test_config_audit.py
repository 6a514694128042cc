"""Blocking and unblocking a sender is in the configuration audit, with the reason; rolled back
with the change."""
from django.urls import reverse

from requests_app.intake import services
from requests_app.intake.models import BlockedSender
from requests_app.models import ConfigChange
from tests.config_audit import only_entry, rolled_back

BLOCKED = reverse("intake:blocked")


def test_it_audits_a_block_and_its_lifting(client, manager):
    client.force_login(manager)
    assert client.post(BLOCKED, {"value": "spam.example", "reason": "bulk junk"}).status_code == 302
    block = BlockedSender.objects.get()
    entry = only_entry(actor=manager, action="blocked", object_type="intake.blockedsender",
                       object_id=str(block.pk), object_repr="spam.example")
    assert entry.fields == ["reason", "value"] and entry.data == {"reason": "bulk junk"}
    assert client.post(reverse("intake:lift", args=[block.pk]), {"reason": "mistake"}).status_code == 302
    lifted = ConfigChange.objects.get(action="unblocked")
    assert (lifted.actor, lifted.object_id) == (manager, str(block.pk))
    assert lifted.fields == ["lift_reason", "lifted_at", "lifted_by"]
    assert lifted.data == {"reason": "mistake", "messages_back_in_inbox": 0}


def test_it_lets_no_analyst_block_and_audits_nothing(client, analyst):
    client.force_login(analyst)
    assert client.post(BLOCKED, {"value": "spam.example", "reason": "x"}).status_code == 403
    assert not ConfigChange.objects.exists()


def test_it_leaves_no_entry_when_the_block_is_rolled_back(manager):
    rolled_back(lambda: services.block_sender(manager, "spam.example", "bulk junk"))
    assert not BlockedSender.objects.exists()
