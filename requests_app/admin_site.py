"""Django admin is for superusers only. Every seeded role is `is_staff` (they sign in to /staff/),
and the admin knows nothing of case scoping or the audited reveal, so a staff flag must not open it."""
from django.contrib import admin
from django.contrib.admin.apps import AdminConfig


class SuperuserAdminSite(admin.AdminSite):
    def has_permission(self, request):
        return request.user.is_active and request.user.is_superuser


class SuperuserAdminConfig(AdminConfig):
    default_site = "requests_app.admin_site.SuperuserAdminSite"
