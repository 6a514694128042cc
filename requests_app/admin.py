"""Admin (superusers only, see admin_site.py): a read-only window on the records. Cases, appeals and
notes change only through the services, which audit every change; opening a record that holds
personal data here is recorded on its case like the staff reveal (Event 'admin_viewed')."""
from django.contrib import admin
from django.contrib.admin.utils import unquote

from . import services
from .models import (Appeal, Attachment, ConfigChange, DataSubjectRequest, Deadline, Event, Letter, Note,
                     Notification)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records are changed by the services (audited), never here; what is opened is on the record."""

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        if response.status_code == 200:
            obj = self.get_object(request, unquote(object_id))
            case = obj if isinstance(obj, DataSubjectRequest) else getattr(obj, "case", None)
            if case is not None:
                services.record(case, "admin_viewed", user=request.user,
                                data={"model": obj._meta.model_name, "object": obj.pk})
        return response

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class DeadlineInline(admin.TabularInline):
    model = Deadline
    extra = 0
    can_delete = False
    fields = ("kind", "start_date", "due_date", "extended", "paused_since", "paused_days", "status", "alert_level")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(DataSubjectRequest)
class DataSubjectRequestAdmin(ReadOnlyAdmin):
    list_display = ("reference", "regime", "request_type", "state", "assignee", "next_due_at", "escalation_level")
    list_filter = ("regime", "state", "request_type", "is_repeat", "escalation_level")
    search_fields = ("reference",)  # never a lookup by name or e-mail
    list_select_related = ("assignee",)
    readonly_fields = ("reference", "public_id", "batch_id", "state", "regime", "received_at", "next_due_at",
                       "next_due_kind", "version", "closed_at", "decision_sent_at")
    raw_id_fields = ("assignee",)
    inlines = [DeadlineInline]


@admin.register(Deadline)
class DeadlineAdmin(ReadOnlyAdmin):
    list_display = ("case", "kind", "start_date", "due_date", "extended", "status", "alert_level")
    list_filter = ("kind", "status", "alert_level", "extended")
    list_select_related = ("case",)


@admin.register(Appeal)
class AppealAdmin(ReadOnlyAdmin):
    list_display = ("case", "state", "received_at", "next_due_at", "decided_at")
    list_filter = ("state",)
    readonly_fields = ("case", "state", "received_at", "decided_at", "decided_by", "next_due_at", "version")


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "case", "kind", "from_state", "to_state", "actor_label")
    list_filter = ("kind",)
    search_fields = ("case__reference",)
    list_select_related = ("case",)


@admin.register(Letter)
class LetterAdmin(ReadOnlyAdmin):
    list_display = ("case", "kind", "language", "status", "sha256", "issued_at")
    list_filter = ("kind", "status", "language")
    list_select_related = ("case",)


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "kind", "status", "attempts", "sent_at")
    list_filter = ("kind", "status")
    # Addresses, subjects and bodies (which hold status links) stay out of admin.
    fields = ("kind", "case", "letter", "status", "attempts", "next_attempt_at", "sent_at", "created_at",
              "last_error", "provider_message_id")


@admin.register(Note)
class NoteAdmin(ReadOnlyAdmin):
    list_display = ("case", "author", "created_at")


@admin.register(Attachment)
class AttachmentAdmin(ReadOnlyAdmin):
    list_display = ("case", "kind", "original_name", "content_type", "size", "created_at")


@admin.register(ConfigChange)
class ConfigChangeAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "actor_label", "action", "object_type", "object_repr")
    list_filter = ("object_type", "action")
