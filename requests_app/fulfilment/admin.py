from django.contrib import admin

from requests_app.admin import ReadOnlyAdmin

from .models import AccessPackage, DataSystem, Task


@admin.register(DataSystem)
class DataSystemAdmin(ReadOnlyAdmin):
    """The data map changes on its staff page, which writes the configuration audit."""
    list_display = ("name", "kind", "vendor_name", "work_mode", "owner", "owner_email", "active")
    list_filter = ("kind", "work_mode", "active")
    search_fields = ("name", "vendor_name")


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):
    """Read-only: tasks change through the services, which audit every answer."""
    list_display = ("case", "system", "action", "state", "assignee", "due_at")
    list_filter = ("state", "action")
    readonly_fields = [f.name for f in Task._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AccessPackage)
class AccessPackageAdmin(admin.ModelAdmin):
    list_display = ("case", "sha256", "created_at", "expires_at", "download_count", "deleted_at")
    readonly_fields = [f.name for f in AccessPackage._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
