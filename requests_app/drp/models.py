"""Authorised agents of the Data Rights Protocol 1.0, their pair-wise tokens, the requests they
filed (one per case) and the status-callback outbox."""
from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from requests_app.models import DataSubjectRequest


class Agent(models.Model):
    """An Authorized Agent from the DRP directory (§3.05.1); its verify key is the root of trust."""

    agent_id = models.CharField(max_length=100, unique=True)
    name = models.CharField(max_length=200)
    verify_key = models.CharField(max_length=100, help_text="Base64 Ed25519 public verify key")
    web_url = models.CharField(max_length=300, blank=True)
    identity_assurance_url = models.CharField(max_length=300, blank=True)
    technical_contact = models.CharField(max_length=254, blank=True)
    business_contact = models.CharField(max_length=254, blank=True)
    directory_entry = models.JSONField(default=dict, help_text="The directory entry as registered")
    active = models.BooleanField(default=True)
    registered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["agent_id"]

    def __str__(self):
        return f"{self.name} ({self.agent_id})"

    @property
    def contact_email(self) -> str:
        return self.business_contact or self.technical_contact


class AgentToken(models.Model):
    """A pair-wise bearer token (§2.05), stored as its SHA-256: a database leak reveals no token."""

    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="tokens")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)


class DrpRequest(models.Model):
    """One Data Rights Exercise request, and the case it became."""

    request_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.OneToOneField(DataSubjectRequest, on_delete=models.PROTECT, related_name="drp")
    agent = models.ForeignKey(Agent, on_delete=models.PROTECT, related_name="requests")
    agent_request_id = models.CharField(max_length=200, blank=True)
    exercise = models.CharField(max_length=40)
    drp_regime = models.CharField(max_length=16, blank=True)
    relationships = models.JSONField(default=list, blank=True)
    status_callback = models.URLField(max_length=500, blank=True)
    claims = models.JSONField(default=dict, help_text="Identity claims as the agent sent them (with _verified)")
    body_sha256 = models.CharField(max_length=64, unique=True, help_text="A replayed signed body files nothing")
    last_status = models.JSONField(default=dict, help_text="The status object the agent last heard of")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["agent", "agent_request_id"], condition=~Q(agent_request_id=""),
                                    name="drp_unique_agent_request_id"),
        ]

    def __str__(self):
        return f"DRP {self.request_id} ({self.exercise})"


class CallbackStatus(models.TextChoices):
    PENDING = "pending", "Waiting to be sent"
    SENT = "sent", "Delivered"
    FAILED = "failed", "Gave up"


class StatusCallback(models.Model):
    """The callback outbox: one row per status change, written when the change is seen, POSTed to
    the agent's status_callback until it answers 2xx. Unique per (request, event): a change is
    queued once however often its event is replayed."""

    drp_request = models.ForeignKey(DrpRequest, on_delete=models.CASCADE, related_name="callbacks")
    event_id = models.BigIntegerField(help_text="The core audit Event that changed the status")
    url = models.URLField(max_length=500)
    payload = models.JSONField()
    status = models.CharField(max_length=12, choices=CallbackStatus.choices, default=CallbackStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["drp_request", "event_id"], name="drp_callback_once_per_change"),
        ]
        indexes = [
            models.Index(fields=["next_attempt_at"], condition=Q(status="pending"), name="drp_callback_pending"),
        ]

    def __str__(self):
        return f"callback {self.pk} for {self.drp_request_id} ({self.status})"
