"""The triage inbox (mail sent to the privacy address), blocked senders and one-time codes."""
from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from requests_app.models import DataSubjectRequest


class InboxState(models.TextChoices):
    NEW = "new", _("To triage")
    CONVERTED = "converted", _("Turned into a case")
    ATTACHED = "attached", _("Attached to a case")
    DISMISSED = "dismissed", _("Dismissed")
    BLOCKED = "blocked", _("From a blocked sender")


class Flag(models.TextChoices):
    UNPARSEABLE = "unparseable", _("Could not be read: kept raw")
    MX_UNREGISTERED = "mx_unregistered_address", _("Not from the account's registered address (Mexico)")
    SPAM = "spam", _("The provider marked it as spam")


class InboundMessage(models.Model):
    """One e-mail that reached the privacy address. Kept whatever happens to it: a message that
    cannot be parsed is stored raw with the error, never dropped."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    esp = models.CharField(max_length=40)
    event_id = models.CharField(max_length=200, null=True, blank=True, unique=True,
                                help_text="The provider's id: a retried webhook is stored once")
    received_at = models.DateTimeField(help_text="When it arrived: the receipt of a case made from it")
    from_email = models.EmailField(blank=True, db_index=True)
    from_name = models.CharField(max_length=200, blank=True)
    to = models.JSONField(default=list, blank=True)
    subject = models.CharField(max_length=500, blank=True)
    text = models.TextField(blank=True)
    message_id = models.CharField(max_length=500, blank=True)
    sent_date = models.CharField(max_length=100, blank=True, help_text="The sender's Date header, as written")
    raw = models.TextField(blank=True, help_text="The provider's payload, kept when it could not be parsed")
    eml = models.FileField(upload_to="inbound/", blank=True, help_text="The original message (.eml)")
    parse_error = models.TextField(blank=True)
    flags = models.JSONField(default=list, blank=True)

    state = models.CharField(max_length=12, choices=InboxState.choices, default=InboxState.NEW, db_index=True)
    thread_case = models.ForeignKey(DataSubjectRequest, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+", help_text="The case its reference points at")
    cases = models.ManyToManyField(DataSubjectRequest, blank=True, related_name="inbound_messages")
    dismiss_reason = models.TextField(blank=True)
    handled_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    handled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["received_at", "id"]
        indexes = [models.Index(fields=["state", "received_at"], name="inbox_state_received")]

    def __str__(self):
        return f"{self.from_email or '?'}: {self.subject[:50]}"

    @property
    def is_open(self) -> bool:
        return self.state == InboxState.NEW


class InboundAttachment(models.Model):
    message = models.ForeignKey(InboundMessage, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to="inbound/")
    name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)


class BlockQuerySet(models.QuerySet):
    def active(self):
        return self.filter(lifted_at__isnull=True)


class BlockedSender(models.Model):
    """An address or a whole domain whose mail skips the inbox. Never deleted: lifting a block
    records who lifted it and when, so the row is its own audit trail."""

    value = models.CharField(max_length=254, help_text="an address (ana@example.com) or a domain (example.com)")
    reason = models.TextField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    lifted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+")
    lifted_at = models.DateTimeField(null=True, blank=True)
    lift_reason = models.TextField(blank=True)

    objects = BlockQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["value"], condition=Q(lifted_at__isnull=True),
                                               name="one_active_block_per_value")]

    def __str__(self):
        return self.value

    @property
    def is_domain(self) -> bool:
        return "@" not in self.value


class OneTimeCode(models.Model):
    """A 6-digit code that proves an address before the form creates a case. Only its hash is stored."""

    email = models.EmailField(db_index=True)
    code_hash = models.CharField(max_length=128)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]


class InboxEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError("inbox audit events are append-only")

    def delete(self):
        raise PermissionError("inbox audit events are append-only")


class InboxEvent(models.Model):
    """Append-only audit of an inbox message: who opened it unmasked, and what was done with it."""

    message = models.ForeignKey(InboundMessage, on_delete=models.PROTECT, related_name="events")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    kind = models.CharField(max_length=24)
    reason = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = InboxEventQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError("inbox audit events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("inbox audit events are append-only")
