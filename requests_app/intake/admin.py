from django.contrib import admin

from .models import BlockedSender, InboundMessage


@admin.register(InboundMessage)
class InboundMessageAdmin(admin.ModelAdmin):
    list_display = ("received_at", "esp", "state", "subject")
    list_filter = ("state", "esp")
    readonly_fields = [f.name for f in InboundMessage._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # kept whatever happens to it


@admin.register(BlockedSender)
class BlockedSenderAdmin(admin.ModelAdmin):
    list_display = ("value", "created_by", "created_at", "lifted_at")
    readonly_fields = [f.name for f in BlockedSender._meta.fields]

    def has_add_permission(self, request):
        return False  # through the staff page, which records who and why

    def has_delete_permission(self, request, obj=None):
        return False
