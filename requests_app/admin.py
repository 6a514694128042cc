from django.contrib import admin

from .models import Appeal, Attachment, DataSubjectRequest, Deadline, Event, Letter, Note, Notification


class ReadOnlyAdmin(admin.ModelAdmin):
    """The audit trail and issued letters are records: nobody edits them, not even here."""

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
class DataSubjectRequestAdmin(admin.ModelAdmin):
    list_display = ("reference", "regime", "request_type", "state", "assignee", "next_due_at", "escalation_level")
    list_filter = ("regime", "state", "request_type", "is_repeat", "escalation_level")
    search_fields = ("reference", "requester_email", "requester_name")
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
class AppealAdmin(admin.ModelAdmin):
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
    list_display = ("created_at", "kind", "subject", "status", "attempts", "sent_at")
    list_filter = ("kind", "status")


@admin.register(Note)
class NoteAdmin(admin.ModelAdmin):
    list_display = ("case", "author", "created_at")


@admin.register(Attachment)
class AttachmentAdmin(ReadOnlyAdmin):
    list_display = ("case", "kind", "original_name", "content_type", "size", "created_at")
