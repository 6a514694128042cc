"""API keys: each key acts as its own service account (a User in the key's role group), so the
core's permission checks (roles.py, models.can_work, the services) apply to it unchanged."""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class ApiKeyRole(models.TextChoices):
    AUDITOR = "auditor", "Auditor (read only)"
    ANALYST = "analyst", "Analyst (works the cases assigned to it)"
    MANAGER = "manager", "Manager (everything)"


class ApiKey(models.Model):
    name = models.CharField(max_length=100, unique=True)
    role = models.CharField(max_length=12, choices=ApiKeyRole.choices)
    prefix = models.CharField(max_length=16, unique=True, help_text="Shown to identify the key; not secret")
    secret_hash = models.CharField(max_length=64, help_text="SHA-256 of the whole key")
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="api_key",
                                help_text="The service account the key acts as")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "API key"

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    def is_usable(self, now=None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and (self.expires_at is None or now < self.expires_at)

    @property
    def status(self) -> str:
        if self.revoked_at:
            return "revoked"
        if self.expires_at and timezone.now() >= self.expires_at:
            return "expired"
        return "active"


class ApiKeyUse(models.Model):
    """The audit log of a key: one row per authenticated API request (no query string: searches
    may hold personal data)."""

    key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="uses")
    at = models.DateTimeField(default=timezone.now)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=255)
    status = models.PositiveSmallIntegerField()
    ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["key", "-at"], name="apikeyuse_key_at")]
