"""A connector works a data system's tasks instead of a person (DataSystem.work_mode=connector):
SQL statements against its database, or a signed HTTP call to its service. A Run is the
connector's work on one fulfilment Task; an IdentityMatch is what the identity source said about
a requester."""
from __future__ import annotations

import os
import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from requests_app.fulfilment.models import DataSystem, Task
from requests_app.models import DataSubjectRequest

from . import crypto, sqlcheck

ENV_NAME = re.compile(r"^[A-Z][A-Z0-9_]{1,99}$")


class Connector(models.Model):
    class Kind(models.TextChoices):
        SQL = "sql", _("SQL database (PostgreSQL, MySQL/MariaDB, SQLite)")
        HTTP = "http", _("HTTP service (signed webhook)")

    system = models.OneToOneField(DataSystem, on_delete=models.CASCADE, related_name="connector")
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.SQL)
    # The SQL connection URL is a secret: named by an environment variable, or stored encrypted.
    url_env = models.CharField(max_length=100, blank=True,
                               help_text="Name of the environment variable that holds the connection URL")
    url_encrypted = models.TextField(blank=True, editable=False)
    endpoint = models.URLField(blank=True, help_text="HTTP connectors: where the signed request is POSTed")
    secret_encrypted = models.TextField(blank=True, editable=False)
    timeout_seconds = models.PositiveSmallIntegerField(default=30, help_text="Statement or HTTP read timeout")
    max_rows = models.PositiveIntegerField(default=10_000, help_text="A SELECT returning more fails the task")
    identity_source = models.BooleanField(default=False, help_text="Look requesters up here on e-mail confirmation")
    enabled = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"{self.get_kind_display()} connector of {self.system}"

    def clean(self):
        if self.url_env and not ENV_NAME.match(self.url_env):
            raise ValidationError({"url_env": "An environment variable name: capitals, digits and _."})
        if self.kind == self.Kind.SQL and not (self.url_env or self.url_encrypted):
            raise ValidationError({"url_env": "Give the connection URL, or the environment variable that holds it."})
        if self.kind == self.Kind.HTTP and not (self.endpoint and self.secret_encrypted):
            raise ValidationError({"endpoint": "An HTTP connector needs its endpoint and a signing secret."})

    def set_url(self, url: str) -> None:
        self.url_encrypted = crypto.encrypt(url)

    def set_secret(self, secret: str) -> None:
        self.secret_encrypted = crypto.encrypt(secret)

    @property
    def url(self) -> str:
        if self.url_env:
            value = os.environ.get(self.url_env, "")
            if not value:
                raise ValueError(f"the environment variable {self.url_env} is not set")
            return value
        return crypto.decrypt(self.url_encrypted)

    @property
    def secret(self) -> str:
        return crypto.decrypt(self.secret_encrypted)

    @property
    def url_source(self) -> str:
        """What the UI may show about the URL: where it comes from, never the URL."""
        if self.url_env:
            return f"environment variable {self.url_env}"
        return "stored encrypted" if self.url_encrypted else "not set"


class StatementAction(models.TextChoices):
    COLLECT = "collect", _("Collect (SELECT)")
    ERASE = "erase", _("Erase or anonymise (UPDATE/DELETE)")
    CORRECT = "correct", _("Correct (UPDATE)")
    SUPPRESS = "suppress", _("Suppress, opt-out (UPDATE/INSERT)")
    IDENTITY = "identity", _("Identity look-up (SELECT email, account_id, phone)")


class Statement(models.Model):
    connector = models.ForeignKey(Connector, on_delete=models.CASCADE, related_name="statements")
    action = models.CharField(max_length=12, choices=StatementAction.choices)
    label = models.CharField(max_length=80, help_text="e.g. 'orders' (names the result)")
    sql = models.TextField(help_text="Bind identities as %(email)s, %(account_id)s, %(phone)s")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["connector", "action", "position", "id"]

    def __str__(self):
        return f"{self.label} ({self.action})"

    def clean(self):
        try:
            sqlcheck.check(self.sql, self.action)
        except sqlcheck.StatementError as exc:
            raise ValidationError({"sql": str(exc)}) from None

    def save(self, *args, **kwargs):
        self.clean()  # refused at save time, whichever way it is saved
        super().save(*args, **kwargs)


class RunState(models.TextChoices):
    PENDING = "pending", _("Waiting for staff (dry run, request, approval)")
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    WAITING = "waiting", _("Waiting for the service's callback")
    SUCCEEDED = "succeeded", _("Done")
    FAILED = "failed", _("Failed")


class Run(models.Model):
    """The connector's work on one task. The worker claims it with a conditional UPDATE (claim_token),
    so two deliveries of the same Celery message never both run it."""
    task = models.OneToOneField(Task, on_delete=models.PROTECT, related_name="connector_run")
    connector = models.ForeignKey(Connector, on_delete=models.PROTECT, related_name="runs")
    state = models.CharField(max_length=10, choices=RunState.choices, default=RunState.PENDING, db_index=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    claim_token = models.CharField(max_length=32, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    dry_run = models.JSONField(null=True, blank=True, help_text="Rows each statement would touch")
    dry_run_at = models.DateTimeField(null=True, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    corrections_encrypted = models.TextField(blank=True, help_text="The corrected values (personal data: encrypted)")
    results = models.JSONField(default=list, blank=True, help_text="Per statement: label and rows")
    error = models.TextField(blank=True)
    callback_deadline = models.DateTimeField(null=True, blank=True)
    failure_alerted_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"connector run for task {self.task_id}"

    @property
    def ledger_key(self) -> str:
        return f"dsar-task-{self.task_id}"


class MatchLevel(models.TextChoices):
    NONE = "none", _("No match")
    EMAIL = "email_only", _("E-mail only")
    TWO_POINTS = "two_points", _("Two data points")
    LOGIN = "account_login", _("Account login")


LEVEL_RANK = {MatchLevel.NONE: 0, MatchLevel.EMAIL: 1, MatchLevel.TWO_POINTS: 2, MatchLevel.LOGIN: 3}


class IdentityMatch(models.Model):
    case = models.OneToOneField(DataSubjectRequest, on_delete=models.PROTECT, related_name="identity_match")
    connector = models.ForeignKey(Connector, null=True, on_delete=models.SET_NULL, related_name="+")
    level = models.CharField(max_length=16, choices=MatchLevel.choices)
    matched = models.JSONField(default=list, help_text="Which identifiers matched (names, never values)")
    note = models.TextField(blank=True)
    error = models.TextField(blank=True)
    checked_at = models.DateTimeField()

    def __str__(self):
        return f"{self.case}: {self.level}"
