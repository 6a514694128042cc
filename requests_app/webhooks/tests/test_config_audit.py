"""Webhook subscriptions in the configuration audit: created, paused, resumed, a delivery sent
again; never the signing secret nor the receiver's URL (it may carry a token); rolled back with
the change."""
from django.urls import reverse

from requests_app.models import ConfigChange
from requests_app.webhooks import services
from requests_app.webhooks.models import Delivery, DeliveryStatus, Subscription
from tests.config_audit import assert_no_secret, only_entry, rolled_back

URL = "https://hooks.example.com/services/T0KEN-in-the-path?sig=abc123query"


def test_it_audits_a_subscription_created_on_the_staff_page(client, manager):
    client.force_login(manager)
    response = client.post(reverse("webhooks_staff:subscriptions"),
                           {"name": "crm", "url": URL, "events": ["request.created"]})
    assert response.status_code == 302
    sub = Subscription.objects.get()
    entry = only_entry(actor=manager, action="created", object_type="webhooks.subscription",
                       object_id=str(sub.pk), object_repr="crm")
    assert entry.fields == ["events", "name", "secret", "url"] and entry.data == {"events": ["request.created"]}
    assert_no_secret(entry, sub.secret, sub.secret.removeprefix("whsec_"), "T0KEN", "abc123query")


def test_it_audits_pausing_and_resuming(client, manager):
    sub = Subscription.objects.create(name="crm", url=URL, events=["request.created"], secret=services.new_secret())
    client.force_login(manager)
    client.post(reverse("webhooks_staff:toggle", args=[sub.pk]), {"active": "0"})
    entry = only_entry(actor=manager, action="deactivated", fields=["active"], object_repr="crm")
    assert_no_secret(entry, sub.secret, "T0KEN")
    client.post(reverse("webhooks_staff:toggle", args=[sub.pk]), {"active": "0"})  # no change: no entry
    client.post(reverse("webhooks_staff:toggle", args=[sub.pk]), {"active": "1"})
    assert list(ConfigChange.objects.order_by("id").values_list("action", flat=True)) == ["deactivated", "activated"]


def test_it_audits_a_delivery_sent_again(client, manager, django_capture_on_commit_callbacks):
    sub = Subscription.objects.create(name="crm", url=URL, events=["request.created"], secret=services.new_secret())
    delivery = Delivery.objects.create(subscription=sub, event_key="event:1", event_type="request.created",
                                       msg_id="msg_1", payload={}, status=DeliveryStatus.FAILED, attempts=8)
    client.force_login(manager)
    with django_capture_on_commit_callbacks():
        client.post(reverse("webhooks_staff:redeliver", args=[sub.pk, delivery.pk]))
    entry = only_entry(actor=manager, action="redelivered", object_id=str(sub.pk))
    assert entry.data == {"delivery": "msg_1", "event_type": "request.created"}
    assert_no_secret(entry, sub.secret, "T0KEN")


def test_it_leaves_no_entry_when_the_subscription_is_rolled_back(manager):
    rolled_back(lambda: services.create_subscription(name="crm", url=URL, events=["request.created"], user=manager))
    assert not Subscription.objects.exists()
