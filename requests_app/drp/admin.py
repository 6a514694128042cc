from django.contrib import admin

from .models import Agent, StatusCallback


@admin.register(Agent)
class AgentAdmin(admin.ModelAdmin):
    list_display = ("agent_id", "name", "active", "created_at")
    readonly_fields = [f.name for f in Agent._meta.fields]  # registered through the staff page or drp_agent

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # removed (deactivated, audited) through the staff page or drp_agent


@admin.register(StatusCallback)
class StatusCallbackAdmin(admin.ModelAdmin):
    list_display = ("pk", "drp_request", "status", "attempts", "response_code", "next_attempt_at", "sent_at")
    list_filter = ("status",)
    readonly_fields = [f.name for f in StatusCallback._meta.fields]
