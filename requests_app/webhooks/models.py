"""Webhook subscriptions and their outbox: one Delivery row per (subscription, thing that
happened), unique, so a change is queued once however often its signal fires; each HTTP try is a
DeliveryAttempt, the log staff read."""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

EVENT_TYPES = {
    "request.created": "A request was filed (any channel)",
    "request.state_changed": "A case changed state (verified, awaiting the requester, decided, withdrawn, …)",
    "appeal.state_changed": "An appeal was filed, reviewed or decided",
    "clock.due_soon": "A legal clock is due within DSAR_DUE_SOON_DAYS",
    "clock.urgent": "A legal clock is due within DSAR_URGENT_DAYS",
    "clock.overdue": "A legal clock has expired",
    "letter.issued": "A response letter was issued (rendered, hashed, immutable)",
    "task.created": "A fulfilment task was created for a data system the case concerns",
    "task.state_changed": "A fulfilment task was answered (done, no data, failed, not applicable), closed with its "
                          "case, reopened or resumed",
    "task.reassigned": "A fulfilment task got a new owner",
    "task.due_changed": "A fulfilment task's due date moved with its legal clock",
}


class Subscription(models.Model):
    name = models.CharField(max_length=100)
    url = models.URLField(max_length=500)
    events = models.JSONField(default=list, help_text="Event types, e.g. ['request.created']")
    secret = models.CharField(max_length=100, help_text="Standard Webhooks signing secret (whsec_…)")
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self):
        return f"{self.name} → {self.url}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Waiting to be sent"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Gave up"


class Delivery(models.Model):
    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="deliveries")
    event_key = models.CharField(max_length=100, help_text="What happened: event:<id> or alert:<clock>:<level>")
    event_type = models.CharField(max_length=40)
    msg_id = models.CharField(max_length=64, unique=True, help_text="webhook-id: the same on every retry")
    payload = models.JSONField()
    status = models.CharField(max_length=12, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["subscription", "event_key"], name="delivery_once")]
        indexes = [models.Index(fields=["next_attempt_at"], condition=Q(status="pending"), name="delivery_pending")]

    def __str__(self):
        return f"{self.event_type} to {self.subscription_id} ({self.status})"


class DeliveryAttempt(models.Model):
    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="tries")
    at = models.DateTimeField(default=timezone.now)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["at", "id"]
