"""What the API reads and writes. Requester details are masked as on the staff case page;
``?reveal=true`` on a case shows them through services.reveal_requester (permission-checked
and audited)."""
from __future__ import annotations

import datetime as dt

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ..models import Appeal, AppealState, Awaiting, DataSubjectRequest, Deadline, Event, Filer, Letter, State
from ..views.staff import mask_email, mask_text


class MaskedRequesterSerializer(serializers.Serializer):
    name = serializers.CharField()
    email = serializers.CharField()
    account_id = serializers.CharField()
    phone = serializers.CharField()
    masked = serializers.BooleanField()


def masked_requester(case) -> dict:
    return {"name": mask_text(case.requester_name), "email": mask_email(case.requester_email),
            "account_id": mask_text(case.account_id), "phone": mask_text(case.phone), "masked": True}


class CaseSerializer(serializers.ModelSerializer):
    assignee = serializers.SerializerMethodField()
    requester = serializers.SerializerMethodField()
    state = serializers.ChoiceField(choices=State.choices, read_only=True)

    class Meta:
        model = DataSubjectRequest
        fields = ["id", "reference", "public_id", "batch_id", "jurisdiction", "regime", "request_type", "language",
                  "state", "awaiting", "filer", "agent_name", "agent_organisation", "via_gpc", "requester",
                  "received_at", "email_confirmed_at", "verified_at", "decision_sent_at", "closed_at",
                  "next_due_at", "next_due_kind", "assignee", "is_repeat", "escalation_level", "version"]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_assignee(self, case) -> str | None:
        return case.assignee.get_username() if case.assignee_id else None

    @extend_schema_field(MaskedRequesterSerializer)
    def get_requester(self, case) -> dict:
        revealed = self.context.get("revealed")
        return {**revealed, "masked": False} if revealed else masked_requester(case)


class ClockSerializer(serializers.ModelSerializer):
    class Meta:
        model = Deadline
        fields = ["id", "kind", "appeal", "is_obligation", "source", "timezone", "start_date", "due_date", "due_at",
                  "extended", "extended_due_date", "extension_reason", "paused_since", "paused_days", "restarts",
                  "status", "closed_at", "alert_level"]
        read_only_fields = fields


class EventSerializer(serializers.ModelSerializer):
    case_reference = serializers.CharField(source="case.reference", read_only=True)

    class Meta:
        model = Event
        fields = ["id", "case", "case_reference", "appeal", "actor_label", "kind", "from_state", "to_state",
                  "reason", "data", "public", "created_at"]
        read_only_fields = fields


class CaseEventSerializer(EventSerializer):
    class Meta(EventSerializer.Meta):
        fields = [f for f in EventSerializer.Meta.fields if f != "case_reference"]


class LetterSerializer(serializers.ModelSerializer):
    class Meta:
        model = Letter
        fields = ["id", "kind", "appeal", "language", "status", "sha256", "size", "created_at", "issued_at"]
        read_only_fields = fields


class AppealSerializer(serializers.ModelSerializer):
    state = serializers.ChoiceField(choices=AppealState.choices, read_only=True)

    class Meta:
        model = Appeal
        fields = ["id", "state", "received_at", "statement", "late_accepted_reason", "decision_reasons",
                  "decided_at", "next_due_at", "version"]
        read_only_fields = fields


class CaseDetailSerializer(CaseSerializer):
    details = serializers.CharField(read_only=True)
    data_description = serializers.CharField(read_only=True)
    decision = serializers.JSONField(read_only=True)
    decision_reasons = serializers.CharField(read_only=True)
    clocks = ClockSerializer(source="deadlines", many=True, read_only=True)
    events = CaseEventSerializer(many=True, read_only=True)
    letters = LetterSerializer(many=True, read_only=True)
    appeals = AppealSerializer(many=True, read_only=True)

    class Meta(CaseSerializer.Meta):
        fields = CaseSerializer.Meta.fields + ["details", "data_description", "decision", "decision_reasons",
                                               "clocks", "events", "letters", "appeals"]
        read_only_fields = fields


# --- writes ---------------------------------------------------------------------------------------

class UploadSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=255)
    content_base64 = serializers.CharField(help_text="The file, base64 encoded (PDF, PNG or JPEG, ≤ 10 MB)")


class SubmitSerializer(serializers.Serializer):
    jurisdiction = serializers.CharField(max_length=8, help_text="ISO 3166 country or US-state code, e.g. US-CA")
    request_types = serializers.ListField(child=serializers.CharField(max_length=40), min_length=1, max_length=10)
    requester_name = serializers.CharField(max_length=200)
    requester_email = serializers.EmailField()
    language = serializers.ChoiceField(choices=["en", "es", "pt-br"], default="en")
    filer = serializers.ChoiceField(choices=Filer.choices, default=Filer.SELF)
    account_id = serializers.CharField(max_length=100, required=False, default="", allow_blank=True)
    phone = serializers.CharField(max_length=40, required=False, default="", allow_blank=True)
    data_description = serializers.CharField(max_length=5000, required=False, default="", allow_blank=True)
    details = serializers.CharField(max_length=5000, required=False, default="", allow_blank=True)
    agent_name = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)
    agent_email = serializers.EmailField(required=False, default="", allow_blank=True)
    agent_organisation = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)
    authorisation = UploadSerializer(required=False, help_text="The agent's signed authorisation")
    received_at = serializers.DateTimeField(required=False, help_text="When the request arrived (default: now)")


class VersionSerializer(serializers.Serializer):
    version = serializers.IntegerField(required=False, min_value=1,
                                       help_text="The case version you read; a stale one is refused with 409")


class VerifySerializer(VersionSerializer):
    method = serializers.CharField(max_length=500, help_text="How the identity was verified")


class RequestInformationSerializer(VersionSerializer):
    what = serializers.ChoiceField(choices=[c for c in Awaiting.values if c])
    message = serializers.CharField(max_length=5000)


class ReceiveReplySerializer(VersionSerializer):
    message = serializers.CharField(max_length=5000, required=False, default="", allow_blank=True)
    upload = UploadSerializer(required=False)
    received_at = serializers.DateTimeField(required=False, help_text="When the answer arrived (default: now)")


class ExtendSerializer(VersionSerializer):
    reason = serializers.CharField(max_length=5000)
    kind = serializers.CharField(max_length=24, required=False, help_text="The clock (default: the response clock)")


class DecisionSerializer(VersionSerializer):
    decision = serializers.DictField(required=False, default=dict,
                                     help_text="What the response says, e.g. categories, sources, purposes, "
                                               "recipients (CCPA right to know), basis of a denial")


class RefusalSerializer(DecisionSerializer):
    reasons = serializers.CharField(max_length=10000)


class DetermineSerializer(VersionSerializer):
    admissible = serializers.BooleanField()
    reasons = serializers.CharField(max_length=10000, required=False, default="", allow_blank=True)


class ReasonSerializer(VersionSerializer):
    reason = serializers.CharField(max_length=5000, required=False, default="", allow_blank=True)


class AssignSerializer(VersionSerializer):
    assignee = serializers.CharField(max_length=150, allow_null=True, help_text="A username, or null to unassign")


class NoteSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=10000)


class RecordAppealSerializer(VersionSerializer):
    statement = serializers.CharField(max_length=10000)
    late_reason = serializers.CharField(max_length=5000, required=False, default="", allow_blank=True)
    received_at = serializers.DateTimeField(required=False, help_text="When the appeal arrived (default: now)")


class AppealDecisionSerializer(serializers.Serializer):
    appeal_version = serializers.IntegerField(required=False, min_value=1)
    outcome = serializers.ChoiceField(choices=[AppealState.UPHELD, AppealState.REVERSED,
                                               AppealState.PARTIALLY_REVERSED])
    reasons = serializers.CharField(max_length=10000)


class AppealExtendSerializer(VersionSerializer):
    reason = serializers.CharField(max_length=5000)


class EmptySerializer(serializers.Serializer):
    pass


# --- calculator and metrics -------------------------------------------------------------------------

class CalculatorQuerySerializer(serializers.Serializer):
    jurisdiction = serializers.CharField(max_length=8)
    request_type = serializers.CharField(max_length=40)
    received = serializers.DateField()
    decision_sent = serializers.DateField(required=False)
    appeal_received = serializers.DateField(required=False)
    communicated = serializers.DateField(required=False)

    def validate(self, attrs):
        for name in ("received", "decision_sent", "appeal_received", "communicated"):
            value = attrs.get(name)
            if value is not None and not dt.date(2000, 1, 1) <= value <= dt.date(2100, 12, 31):
                raise serializers.ValidationError({name: ["Give a date between 2000 and 2100."]})
        return attrs


class CalculatedClockSerializer(serializers.Serializer):
    due = serializers.DateField()
    extended_due = serializers.DateField(allow_null=True)


class CalculatorSerializer(serializers.Serializer):
    regime = serializers.CharField()
    request_type = serializers.CharField()
    jurisdiction = serializers.CharField()
    clocks = serializers.DictField(child=CalculatedClockSerializer())


class MetricsQuerySerializer(serializers.Serializer):
    year = serializers.IntegerField(min_value=2020, max_value=2100, required=False)


class MetricsRowSerializer(serializers.Serializer):
    request_type = serializers.CharField()
    label = serializers.CharField()
    received = serializers.IntegerField()
    complied = serializers.IntegerField()
    complied_in_whole = serializers.IntegerField()
    complied_in_part = serializers.IntegerField()
    denied = serializers.IntegerField()
    denied_by_basis = serializers.DictField(child=serializers.IntegerField())
    open = serializers.IntegerField()
    other = serializers.IntegerField()
    median_days = serializers.FloatField(allow_null=True)
    mean_days = serializers.FloatField(allow_null=True)


class MetricsSerializer(serializers.Serializer):
    year = serializers.IntegerField()
    source = serializers.CharField()
    rows = MetricsRowSerializer(many=True)
