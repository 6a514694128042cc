"""Cases, their clocks, appeals, the audit trail, letters and the e-mail outbox.

Models own their state machines (django-fsm) and invariants; the services in services.py are the
only callers of transitions and the only writers of Deadline rows.
"""
from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import RETURN_VALUE, ConcurrentTransitionMixin, FSMField, transition

from . import regimes as R


class State(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted (e-mail not confirmed)")
    VERIFYING = "verifying", _("Verifying identity")
    IN_PROGRESS = "in_progress", _("In progress")
    AWAITING_REQUESTER = "awaiting_requester", _("Awaiting requester")
    ADMISSIBLE = "admissible", _("Admissible, being carried out")
    FULFILLED = "fulfilled", _("Fulfilled")
    PARTIALLY_FULFILLED = "partially_fulfilled", _("Partially fulfilled")
    DENIED = "denied", _("Denied")
    INADMISSIBLE = "inadmissible", _("Inadmissible")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    NOT_FILED = "not_filed", _("Closed as not filed")


OPEN_STATES = (State.SUBMITTED, State.VERIFYING, State.IN_PROGRESS, State.AWAITING_REQUESTER, State.ADMISSIBLE)
DECIDABLE_STATES = (State.IN_PROGRESS, State.ADMISSIBLE)
WORKING_STATES = (State.VERIFYING, State.IN_PROGRESS, State.AWAITING_REQUESTER, State.ADMISSIBLE)


def can_work(instance, user) -> bool:
    """Analysts work the cases assigned to them; managers (view_all_cases) work any case."""
    if not user.has_perm("requests_app.work_case"):
        return False
    assignee_id = getattr(instance, "assignee_id", None) or getattr(getattr(instance, "case", None), "assignee_id", None)
    return assignee_id == user.pk or user.has_perm("requests_app.view_all_cases")


def can_decide_appeal(instance, user) -> bool:
    return user.has_perm("requests_app.decide_appeal")


def can_withdraw(instance, user) -> bool:
    # The requester withdraws through the status page (user is None there); staff record it too.
    return user is None or can_work(instance, user)


class Awaiting(models.TextChoices):
    NONE = "", _("Nothing")
    INFORMATION = "information", _("Missing information")
    IDENTITY = "identity", _("Proof of identity")
    CLARIFICATION = "clarification", _("Clarification of the request")
    FEE = "fee", _("A fee")  # UK GDPR Art. 12A(3): the clock starts when a fee asked for is paid


class Filer(models.TextChoices):
    SELF = R.SELF, _("The person the data is about")
    AGENT = R.AGENT, _("An authorised agent")
    LEGAL_REPRESENTATIVE = R.LEGAL_REPRESENTATIVE, _("A legal representative")
    PARENT = R.PARENT, _("A parent or guardian of a minor")


class Channel(models.TextChoices):
    WEB = "web", _("Web form")
    EMAIL = "email", _("E-mail")
    POST = "post", _("Post")
    PHONE = "phone", _("Phone")
    IN_PERSON = "in_person", _("In person")
    API = "api", _("API")
    DRP = "drp", _("Data Rights Protocol")


# Where the requester typed their own address into a form, it is confirmed by a link before the
# case counts; a request that reached the team another way was received by that very act.
SELF_SERVICE_CHANNELS = (Channel.WEB, Channel.API, Channel.DRP)


class DataSubjectRequest(ConcurrentTransitionMixin, models.Model):
    reference = models.CharField(max_length=20, unique=True, null=True, editable=False)
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    batch_id = models.UUIDField(default=uuid.uuid4, db_index=True, help_text="Cases filed together share it")

    jurisdiction = models.CharField(max_length=8)
    regime = models.CharField(max_length=16, db_index=True)
    request_type = models.CharField(max_length=40)
    language = models.CharField(max_length=8, default="en")

    requester_name = models.CharField(max_length=200)
    requester_email = models.EmailField(db_index=True, blank=True,
                                        help_text="Empty when the request came by post or phone: letters are printed")
    account_id = models.CharField(max_length=100, blank=True)
    phone = models.CharField(max_length=40, blank=True)
    postal_address = models.TextField(blank=True, help_text="Where printed letters go (requests by post)")
    data_description = models.TextField(blank=True, help_text="The data concerned (required in Mexico)")
    details = models.TextField(blank=True)

    filer = models.CharField(max_length=24, choices=Filer.choices, default=Filer.SELF)
    agent_name = models.CharField(max_length=200, blank=True)
    agent_email = models.EmailField(blank=True)
    agent_organisation = models.CharField(max_length=200, blank=True)
    via_gpc = models.BooleanField(default=False, help_text="Filed from a Global Privacy Control signal")
    channel = models.CharField(max_length=16, choices=Channel.choices, default=Channel.WEB)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="recorded_cases", help_text="The staff member who recorded it")
    agent_power_of_attorney = models.BooleanField(
        default=False, help_text="The agent uploaded a power of attorney (11 CCR §7063(b))")
    agent_permission_confirmed_at = models.DateTimeField(
        null=True, blank=True, help_text="When the consumer confirmed directly the agent's permission")

    state = FSMField(max_length=24, choices=State.choices, default=State.SUBMITTED, db_index=True)
    awaiting = models.CharField(max_length=16, choices=Awaiting.choices, blank=True, default="")
    received_at = models.DateTimeField(default=timezone.now)
    email_confirmed_at = models.DateTimeField(null=True, blank=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    information_requested_at = models.DateTimeField(null=True, blank=True)
    decision_sent_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="assigned_cases")
    is_repeat = models.BooleanField(default=False, help_text="Third or later access request in 12 months")
    escalation_level = models.PositiveSmallIntegerField(default=0)
    escalated_at = models.DateTimeField(null=True, blank=True)
    # Denormalised nearest open obligation, kept by the services: the queue sorts on one index.
    next_due_at = models.DateTimeField(null=True, blank=True)
    next_due_kind = models.CharField(max_length=24, blank=True)

    decision = models.JSONField(default=dict, blank=True)
    decision_reasons = models.TextField(blank=True)
    version = models.PositiveIntegerField(default=1, help_text="Optimistic lock for staff forms")

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["next_due_at"]
        indexes = [
            # INCLUDE: the queue's summary counts are an index-only scan of the open cases
            # (PostgreSQL; bench/queue.py: ~200 ms → ~20 ms at 1,000,000 cases).
            models.Index(fields=["next_due_at"], condition=Q(closed_at__isnull=True), name="case_open_next_due",
                         include=["assignee", "is_repeat"]),
            models.Index(fields=["assignee", "next_due_at"], name="case_assignee_due"),
            models.Index(fields=["requester_email", "request_type", "received_at"], name="case_repeat_lookup"),
            # requester_email__iexact (queue search, repeat-request check) compares UPPER(email).
            models.Index(Upper("requester_email"), name="case_email_upper"),
        ]
        permissions = [
            ("work_case", "Can work cases assigned to them"),
            ("view_all_cases", "Can see and work every case"),
            ("assign_case", "Can assign cases"),
            ("extend_deadline", "Can extend a legal deadline"),
            ("decide_appeal", "Can decide appeals"),
            ("reveal_requester", "Can reveal requester details"),
        ]

    def __str__(self):
        return self.reference or f"case #{self.pk}"

    # --- registry lookups -----------------------------------------------------------------------
    @property
    def jurisdiction_info(self) -> R.Jurisdiction:
        return R.jurisdiction(self.jurisdiction)

    @property
    def regime_info(self) -> R.Regime:
        return R.regime(self.regime)

    @property
    def request_type_info(self) -> R.RequestType:
        return self.regime_info.request_type(self.request_type)

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def by_post(self) -> bool:
        """No e-mail address for anyone: every letter is printed and posted."""
        return not self.requester_email and not self.agent_email

    @property
    def awaits_consumer_permission(self) -> bool:
        """11 CCR §7063(a): unless the agent holds a power of attorney, the consumer confirms directly
        that they gave the agent permission; the agent's own confirmation never stands for it."""
        return (self.filer == Filer.AGENT and not self.agent_power_of_attorney
                and self.agent_permission_confirmed_at is None and self.is_open)

    # --- state machine ----------------------------------------------------------------------------
    @transition(field=state, source=State.SUBMITTED, target=RETURN_VALUE(State.VERIFYING, State.IN_PROGRESS))
    def confirm_email(self):
        return State.VERIFYING if self.request_type_info.needs_verification else State.IN_PROGRESS

    @transition(field=state, source=State.SUBMITTED, target=State.IN_PROGRESS,
                conditions=[lambda c: c.request_type_info.is_opt_out])
    def accept_opt_out(self):
        # 11 CCR §7026(d): an opt-out needs neither identity verification nor e-mail confirmation.
        pass

    @transition(field=state, source=State.VERIFYING, target=State.IN_PROGRESS, permission=can_work,
                conditions=[lambda c: not c.awaits_consumer_permission])
    def verify(self):
        pass

    @transition(field=state, source=[State.VERIFYING, State.IN_PROGRESS], target=State.AWAITING_REQUESTER,
                permission=can_work)
    def request_information(self):
        pass

    @transition(field=state, source=State.AWAITING_REQUESTER, target=RETURN_VALUE(State.VERIFYING, State.IN_PROGRESS))
    def receive_reply(self):
        return State.IN_PROGRESS if self.verified_at or not self.request_type_info.needs_verification \
            else State.VERIFYING

    @transition(field=state, source=State.IN_PROGRESS, target=State.ADMISSIBLE, permission=can_work,
                conditions=[lambda c: c.regime == "lfpdppp"])
    def determine_admissible(self):
        pass

    @transition(field=state, source=State.IN_PROGRESS, target=State.INADMISSIBLE, permission=can_work,
                conditions=[lambda c: c.regime == "lfpdppp"])
    def determine_inadmissible(self):
        pass

    @transition(field=state, source=DECIDABLE_STATES, target=State.FULFILLED, permission=can_work,
                conditions=[lambda c: c.regime != "lfpdppp" or c.state == State.ADMISSIBLE,
                            lambda c: not c.awaits_consumer_permission])
    def fulfil(self):
        pass

    @transition(field=state, source=DECIDABLE_STATES, target=State.PARTIALLY_FULFILLED, permission=can_work,
                conditions=[lambda c: c.regime != "lfpdppp" or c.state == State.ADMISSIBLE,
                            lambda c: not c.awaits_consumer_permission])
    def partially_fulfil(self):
        pass

    @transition(field=state, source=WORKING_STATES, target=State.DENIED, permission=can_work,
                conditions=[lambda c: c.regime != "lfpdppp" or c.state != State.IN_PROGRESS])
    def deny(self):
        pass

    @transition(field=state, source=OPEN_STATES, target=State.WITHDRAWN, permission=can_withdraw)
    def withdraw(self):
        pass

    @transition(field=state, source=[State.DENIED, State.PARTIALLY_FULFILLED, State.NOT_FILED],
                target=State.IN_PROGRESS)
    def reopen(self):
        # Spec section 5: a reversed (or partly reversed) appeal reopens the request.
        pass

    @transition(field=state, source=[State.SUBMITTED, State.AWAITING_REQUESTER, State.VERIFYING],
                target=State.NOT_FILED, conditions=[lambda c: not c.request_type_info.is_opt_out])
    def close_not_filed(self):
        # Spec section 5: an opt-out is never closed as "not filed" (11 CCR §7026(d)).
        pass


class AppealState(models.TextChoices):
    RECEIVED = "received", _("Received")
    IN_REVIEW = "in_review", _("In review")
    UPHELD = "upheld", _("Decision upheld")
    REVERSED = "reversed", _("Decision reversed")
    PARTIALLY_REVERSED = "partially_reversed", _("Decision partially reversed")


APPEAL_OPEN_STATES = (AppealState.RECEIVED, AppealState.IN_REVIEW)


class Appeal(ConcurrentTransitionMixin, models.Model):
    case = models.ForeignKey(DataSubjectRequest, on_delete=models.PROTECT, related_name="appeals")
    state = FSMField(max_length=24, choices=AppealState.choices, default=AppealState.RECEIVED, db_index=True)
    received_at = models.DateTimeField(default=timezone.now)
    statement = models.TextField(blank=True, help_text="Why the requester appeals")
    late_accepted_reason = models.TextField(blank=True)
    decision_reasons = models.TextField(blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    next_due_at = models.DateTimeField(null=True, blank=True)
    escalation_level = models.PositiveSmallIntegerField(default=0)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["next_due_at"], condition=Q(decided_at__isnull=True), name="appeal_open_next_due"),
        ]

    def __str__(self):
        return f"Appeal of {self.case}"

    @property
    def is_open(self) -> bool:
        return self.state in APPEAL_OPEN_STATES

    @transition(field=state, source=AppealState.RECEIVED, target=AppealState.IN_REVIEW, permission=can_decide_appeal)
    def start_review(self):
        pass

    @transition(field=state, source=APPEAL_OPEN_STATES, target=AppealState.UPHELD, permission=can_decide_appeal)
    def uphold(self):
        pass

    @transition(field=state, source=APPEAL_OPEN_STATES, target=AppealState.REVERSED, permission=can_decide_appeal)
    def reverse(self):
        pass

    @transition(field=state, source=APPEAL_OPEN_STATES, target=AppealState.PARTIALLY_REVERSED,
                permission=can_decide_appeal)
    def partially_reverse(self):
        pass


class DeadlineStatus(models.TextChoices):
    OPEN = "open", _("Running")
    MET = "met", _("Met")
    LAPSED = "lapsed", _("Lapsed")
    CANCELLED = "cancelled", _("No longer applies")


class AlertLevel(models.IntegerChoices):
    NONE = 0, _("None")
    DUE_SOON = 1, _("Due soon")
    URGENT = 2, _("Urgent")
    OVERDUE = 3, _("Overdue")


class Deadline(models.Model):
    """One legal clock (or internal timer) of a case or appeal. Written only by services."""

    case = models.ForeignKey(DataSubjectRequest, on_delete=models.CASCADE, related_name="deadlines")
    appeal = models.ForeignKey(Appeal, null=True, blank=True, on_delete=models.CASCADE, related_name="deadlines")
    kind = models.CharField(max_length=24)
    is_obligation = models.BooleanField(default=True, help_text="False for windows that lapse")
    source = models.CharField(max_length=200, help_text="The rule's legal source")
    timezone = models.CharField(max_length=40)
    start_date = models.DateField()
    due_date = models.DateField()
    due_at = models.DateTimeField(help_text="End of the due date, local time, stored in UTC")
    extended_due_date = models.DateField(null=True, blank=True, help_text="Latest date an extension reaches")
    extended = models.BooleanField(default=False)
    extension_reason = models.TextField(blank=True)
    extended_at = models.DateTimeField(null=True, blank=True)
    paused_since = models.DateField(null=True, blank=True)
    paused_days = models.PositiveIntegerField(default=0)
    restarts = models.PositiveSmallIntegerField(default=0)
    status = models.CharField(max_length=12, choices=DeadlineStatus.choices, default=DeadlineStatus.OPEN)
    closed_at = models.DateTimeField(null=True, blank=True)
    alert_level = models.PositiveSmallIntegerField(choices=AlertLevel.choices, default=AlertLevel.NONE,
                                                   help_text="Highest alert already claimed")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["due_at"]
        indexes = [
            models.Index(fields=["due_at", "alert_level"], condition=Q(status="open"), name="deadline_open_due"),
            models.Index(fields=["case", "kind"], name="deadline_case_kind"),
        ]

    def __str__(self):
        return f"{self.kind} of {self.case_id} due {self.due_date}"

    @property
    def is_open(self) -> bool:
        return self.status == DeadlineStatus.OPEN

    @property
    def is_paused(self) -> bool:
        return self.paused_since is not None


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError(self.model.APPEND_ONLY)

    def delete(self):
        raise PermissionError(self.model.APPEND_ONLY)


class AppendOnly(models.Model):
    """An audit trail: a stored row is never saved again nor deleted, one by one or in bulk."""

    APPEND_ONLY = "audit entries are append-only"

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError(self.APPEND_ONLY)
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError(self.APPEND_ONLY)


class Event(AppendOnly):
    """Append-only audit trail: every transition, deadline change, reveal and download."""

    APPEND_ONLY = "audit events are append-only"

    case = models.ForeignKey(DataSubjectRequest, on_delete=models.PROTECT, related_name="events")
    appeal = models.ForeignKey(Appeal, null=True, blank=True, on_delete=models.PROTECT, related_name="events")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    actor_label = models.CharField(max_length=150, help_text="user, 'requester' or 'system'")
    kind = models.CharField(max_length=40)
    from_state = models.CharField(max_length=24, blank=True)
    to_state = models.CharField(max_length=24, blank=True)
    reason = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    public = models.BooleanField(default=False, help_text="Shown on the requester's status page")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{self.kind} {self.from_state}→{self.to_state} by {self.actor_label}"


class ConfigChange(AppendOnly):
    """Append-only trail of configuration changes (API keys, webhooks, DRP agents, connectors, the
    data map, blocked senders, staff roles), written by `configaudit.record` in the transaction of
    the change. `fields` names what changed; values are kept only where they are configuration
    (SQL text, a role), never a secret."""

    APPEND_ONLY = "the configuration audit is append-only"

    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="+")
    actor_label = models.CharField(max_length=150, help_text="user, or the command / 'identity provider'")
    action = models.CharField(max_length=40)
    object_type = models.CharField(max_length=100, help_text="app_label.model of what changed")
    object_id = models.CharField(max_length=100)
    object_repr = models.CharField(max_length=200)
    fields = models.JSONField(default=list, blank=True, help_text="names of the fields that changed")
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["object_type", "-created_at"], name="configchange_type_created")]

    def __str__(self):
        return f"{self.action} {self.object_type} {self.object_repr} by {self.actor_label}"


class Note(models.Model):
    case = models.ForeignKey(DataSubjectRequest, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]


def attachment_path(instance, filename):
    return f"attachments/{instance.case.public_id}/{uuid.uuid4().hex}"


class Attachment(models.Model):
    class Kind(models.TextChoices):
        AUTHORISATION = "authorisation", _("Signed authorisation")
        IDENTITY = "identity", _("Proof of identity")
        INFORMATION = "information", _("Information from the requester")
        STAFF = "staff", _("Staff upload")

    case = models.ForeignKey(DataSubjectRequest, on_delete=models.CASCADE, related_name="attachments")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    file = models.FileField(upload_to=attachment_path)
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)


def letter_path(instance, filename):
    return f"letters/{instance.case.public_id}/{filename}"


class LetterStatus(models.TextChoices):
    PENDING = "pending", _("Being rendered")
    ISSUED = "issued", _("Issued")
    FAILED = "failed", _("Rendering failed")


class LetterQuerySet(models.QuerySet):
    """Bulk writes cannot go around Letter.save(): issued letters are the legal record."""

    def update(self, **kwargs):
        if self.filter(status=LetterStatus.ISSUED).exists():
            raise PermissionError("an issued letter is immutable; issue a new letter instead")
        return super().update(**kwargs)

    def delete(self):
        raise PermissionError("letters are kept as the legal record")


class Letter(models.Model):
    """A response letter. Rendered once by the worker, then immutable: a correction is a new letter."""

    case = models.ForeignKey(DataSubjectRequest, on_delete=models.PROTECT, related_name="letters")
    appeal = models.ForeignKey(Appeal, null=True, blank=True, on_delete=models.PROTECT, related_name="letters")
    kind = models.CharField(max_length=32)
    language = models.CharField(max_length=8)
    context = models.JSONField(default=dict, help_text="What the decision said, frozen at decision time")
    status = models.CharField(max_length=12, choices=LetterStatus.choices, default=LetterStatus.PENDING)
    file = models.FileField(upload_to=letter_path, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    size = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    issued_at = models.DateTimeField(null=True, blank=True)

    objects = LetterQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{self.kind} letter for {self.case}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            stored = Letter.objects.filter(pk=self.pk).values("status", "sha256").first()
            if stored and stored["status"] == LetterStatus.ISSUED:
                raise PermissionError("an issued letter is immutable; issue a new letter instead")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("letters are kept as the legal record")


class NotificationStatus(models.TextChoices):
    PENDING = "pending", _("Waiting to be sent")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Gave up")


class Notification(models.Model):
    """The e-mail outbox. A row is written in the same transaction as the change that causes it;
    a task sends it after commit, and the sweep resends anything left pending."""

    kind = models.CharField(max_length=40)
    case = models.ForeignKey(DataSubjectRequest, null=True, blank=True, on_delete=models.CASCADE,
                             related_name="notifications")
    letter = models.ForeignKey(Letter, null=True, blank=True, on_delete=models.PROTECT)
    to = models.JSONField(help_text="List of addresses")
    language = models.CharField(max_length=8, default="en")
    subject = models.CharField(max_length=255)
    body_text = models.TextField()
    body_html = models.TextField(blank=True)
    dedupe_key = models.CharField(max_length=200, unique=True, null=True, blank=True)
    status = models.CharField(max_length=12, choices=NotificationStatus.choices, default=NotificationStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    provider_message_id = models.CharField(max_length=200, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["next_attempt_at"], condition=Q(status="pending"), name="outbox_pending"),
        ]

    def __str__(self):
        return f"{self.kind} to {', '.join(self.to)} ({self.status})"
