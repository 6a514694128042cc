"""The data map (DataSystem), one Task per system a case concerns, their result files, and the
access package delivered to the requester. Connectors (next issue) build on DataSystem.work_mode
and Task; nothing here knows how a system is reached."""
from __future__ import annotations

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from requests_app.models import DataSubjectRequest


class Category(models.TextChoices):
    """The CCPA categories of personal information the privacy policy lists in its California
    section (section K, "Collection of Personal Information"; Cal. Civ. Code §1798.140(v))."""
    IDENTIFIERS = "identifiers", _("Identifiers (name, postal and e-mail address, account name, IP address)")
    CUSTOMER_RECORDS = "customer_records", _("Customer records (Cal. Civ. Code §1798.80(e)), e.g. contact information")
    COMMERCIAL = "commercial", _("Commercial information (transactions, purchase history)")
    INTERNET_ACTIVITY = "internet_activity", _("Internet or network activity (browsing, interactions with the platform)")
    GEOLOCATION = "geolocation", _("Geolocation data (approximate location)")
    AUDIO_VISUAL = "audio_visual", _("Audio, electronic, visual and similar information (support records)")
    INFERENCES = "inferences", _("Inferences (preferences and characteristics)")
    SENSITIVE = "sensitive", _("Sensitive personal information (account log-in)")


class RequestKind(models.TextChoices):
    """The request-type kinds of the regime registry (regimes.RequestType.kind)."""
    ACCESS = "access", _("Access and portability")
    DELETION = "deletion", _("Deletion")
    CORRECTION = "correction", _("Correction")
    OPT_OUT = "opt_out", _("Opt-out")


class Action(models.TextChoices):
    COLLECT = "collect", _("Collect the data")
    ERASE = "erase", _("Erase the data")
    CORRECT = "correct", _("Correct the data")
    SUPPRESS = "suppress", _("Suppress (opt-out)")


ACTION_FOR_KIND = {RequestKind.ACCESS: Action.COLLECT, RequestKind.DELETION: Action.ERASE,
                   RequestKind.CORRECTION: Action.CORRECT, RequestKind.OPT_OUT: Action.SUPPRESS}


class DataSystem(models.Model):
    class Kind(models.TextChoices):
        OURS = "ours", _("Ours")
        PROCESSOR = "processor", _("A processor's (vendor)")

    class WorkMode(models.TextChoices):
        MANUAL = "manual", _("Manually, by its owner")
        VENDOR = "vendor", _("By the vendor, through a link")
        CONNECTOR = "connector", _("By a connector")

    name = models.CharField(max_length=120, unique=True)
    description = models.TextField(blank=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="owned_systems", help_text="The staff member who works its tasks")
    owner_email = models.EmailField(blank=True, help_text="Or a team address that hears of its tasks")
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.OURS)
    vendor_name = models.CharField(max_length=120, blank=True)
    vendor_email = models.EmailField(blank=True, help_text="Where vendor requests are sent")
    categories = models.JSONField(default=list, blank=True, help_text="CCPA categories held (Category values)")
    request_kinds = models.JSONField(default=list, blank=True, help_text="Request kinds that concern it")
    work_mode = models.CharField(max_length=12, choices=WorkMode.choices, default=WorkMode.MANUAL)
    sources = models.TextField(blank=True, help_text="Where its data comes from (know letters), one per line")
    purposes = models.TextField(blank=True, help_text="Why we hold it (know letters), one per line")
    recipients = models.TextField(blank=True, help_text="Who receives it (know letters), one per line")
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def clean(self):
        errors = {}
        if self.kind == self.Kind.PROCESSOR and not (self.vendor_name and self.vendor_email):
            errors["vendor_email"] = "A processor's system needs the vendor's name and contact address."
        if self.work_mode == self.WorkMode.VENDOR and not self.vendor_email:
            errors["vendor_email"] = "A system worked by its vendor needs the vendor's contact address."
        if self.work_mode == self.WorkMode.MANUAL and not (self.owner_id or self.owner_email):
            errors["owner"] = "A system worked manually needs an owner (a staff member or a team address)."
        bad = set(self.categories) - set(Category.values)
        if bad:
            errors["categories"] = f"Unknown categories: {', '.join(sorted(bad))}."
        bad = set(self.request_kinds) - set(RequestKind.values)
        if bad:
            errors["request_kinds"] = f"Unknown request kinds: {', '.join(sorted(bad))}."
        if errors:
            raise ValidationError(errors)

    def concerns(self, request_kind: str) -> bool:
        return self.active and request_kind in self.request_kinds

    @property
    def owner_address(self) -> str:
        if self.work_mode == self.WorkMode.VENDOR:
            return self.vendor_email
        return (self.owner.email if self.owner_id and self.owner.email else "") or self.owner_email

    @property
    def label(self) -> str:
        return f"{self.name} ({self.vendor_name})" if self.kind == self.Kind.PROCESSOR and self.vendor_name \
            else self.name

    def lines(self, field: str) -> list[str]:
        return [line.strip() for line in getattr(self, field).splitlines() if line.strip()]


class TaskState(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")
    NO_DATA = "no_data", _("No data held")
    FAILED = "failed", _("Could not be done")
    NOT_APPLICABLE = "not_applicable", _("Not applicable")


RESOLVED_STATES = (TaskState.DONE, TaskState.NO_DATA, TaskState.FAILED, TaskState.NOT_APPLICABLE)


class ReasonCode(models.TextChoices):
    NONE = "", _("—")
    LEGAL_HOLD = "legal_hold", _("Legal hold")
    RETENTION_DUTY = "retention_duty", _("Retention duty (the law requires us to keep it)")
    TECHNICAL = "technical", _("Technical failure")
    OTHER = "other", _("Other reason")


# A refusal to erase or correct for these reasons is a partial refusal stated in the letter.
REFUSAL_CODES = (ReasonCode.LEGAL_HOLD, ReasonCode.RETENTION_DUTY)


class Task(ConcurrentTransitionMixin, models.Model):
    case = models.ForeignKey(DataSubjectRequest, on_delete=models.PROTECT, related_name="fulfilment_tasks")
    system = models.ForeignKey(DataSystem, on_delete=models.PROTECT, related_name="tasks")
    action = models.CharField(max_length=12, choices=Action.choices)
    state = FSMField(max_length=16, choices=TaskState.choices, default=TaskState.OPEN, db_index=True)
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="fulfilment_tasks")
    due_at = models.DateTimeField(help_text="Internal due moment, derived from the case's legal clock")
    legal_due_at = models.DateTimeField(null=True, blank=True, help_text="The legal clock it was derived from")
    reason_code = models.CharField(max_length=16, choices=ReasonCode.choices, blank=True, default="")
    reason = models.TextField(blank=True)
    records_affected = models.PositiveIntegerField(null=True, blank=True, help_text="Rows or records affected")
    note = models.TextField(blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    completed_label = models.CharField(max_length=150, blank=True, help_text="Who answered (user, vendor, connector)")
    reminder_level = models.PositiveSmallIntegerField(default=0, help_text="1 reminded, 2 escalated as overdue")
    vendor_nonce = models.CharField(max_length=32, blank=True, help_text="Makes the current vendor link single-use")
    vendor_link_sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["due_at", "id"]
        constraints = [models.UniqueConstraint(fields=["case", "system", "action"], name="task_once_per_system")]
        indexes = [
            models.Index(fields=["due_at", "reminder_level"], condition=Q(state="open"), name="task_open_due"),
            models.Index(fields=["assignee", "state", "due_at"], name="task_assignee"),
        ]

    def __str__(self):
        return f"{self.get_action_display()} in {self.system} for {self.case}"

    @property
    def is_open(self) -> bool:
        return self.state == TaskState.OPEN

    @transition(field=state, source=TaskState.OPEN, target=TaskState.DONE)
    def complete(self):
        pass

    @transition(field=state, source=TaskState.OPEN, target=TaskState.NO_DATA)
    def no_data(self):
        pass

    @transition(field=state, source=TaskState.OPEN, target=TaskState.FAILED)
    def fail(self):
        pass

    @transition(field=state, source=TaskState.OPEN, target=TaskState.NOT_APPLICABLE)
    def not_applicable(self):
        pass

    @transition(field=state, source=TaskState.FAILED, target=TaskState.OPEN)
    def reopen(self):
        pass

    @transition(field=state, source=[TaskState.FAILED, TaskState.NOT_APPLICABLE], target=TaskState.OPEN)
    def resume(self):
        """The case was reopened (a reversed appeal): what was refused or dropped is to be done."""


def task_file_path(instance, filename):
    return f"fulfilment/{instance.task.case.public_id}/{uuid.uuid4().hex}"


class TaskFile(models.Model):
    """An export a system's owner, its vendor or a connector gave for a collect task."""
    task = models.ForeignKey(Task, on_delete=models.PROTECT, related_name="files")
    file = models.FileField(upload_to=task_file_path)
    original_name = models.CharField(max_length=255)
    kind = models.CharField(max_length=8, help_text="json, csv or zip")
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_label = models.CharField(max_length=150)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]


def package_path(instance, filename):
    return f"packages/{instance.case.public_id}/{filename}"


class PackageQuerySet(models.QuerySet):
    def update(self, **kwargs):
        if set(kwargs) - AccessPackage.MUTABLE:
            raise PermissionError("an access package is immutable once stored")
        return super().update(**kwargs)

    def delete(self):
        raise PermissionError("access packages are kept as the record (their file expires)")


class AccessPackage(models.Model):
    """The requester's data as issued with the decision: stored once, hashed, never changed.
    Only its download counters change, and its file is deleted when the download expires
    (the manifest and the letter remain)."""
    MUTABLE = {"download_count", "last_downloaded_at", "deleted_at", "file"}

    # Usually one per case; a decision reopened by a reversed appeal issues a new one.
    case = models.ForeignKey(DataSubjectRequest, on_delete=models.PROTECT, related_name="access_packages")
    file = models.FileField(upload_to=package_path, blank=True)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveIntegerField()
    manifest = models.JSONField()
    portable = models.BooleanField(default=False, help_text="Issued for a portability request (GDPR Art. 20)")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    download_count = models.PositiveIntegerField(default=0)
    last_downloaded_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    objects = PackageQuerySet.as_manager()

    def __str__(self):
        return f"access package of {self.case}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            fields = kwargs.get("update_fields")
            if fields is None or set(fields) - self.MUTABLE:
                raise PermissionError("an access package is immutable once stored")
            if "file" in fields and self.file:
                raise PermissionError("a package's file can only be deleted, never replaced")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("access packages are kept as the record (their file expires)")

    @property
    def filename(self) -> str:
        return f"{self.case.reference}-data.zip"


class DownloadCode(models.Model):
    """A one-time code e-mailed to the requester before a package download (hash only)."""
    package = models.ForeignKey(AccessPackage, on_delete=models.CASCADE, related_name="codes")
    code_hash = models.CharField(max_length=64)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
