from django.apps import AppConfig
from django.db.models.signals import post_migrate


class RequestsAppConfig(AppConfig):
    name = "requests_app"
    verbose_name = "Data subject requests"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import audit_guard, storage_params

        post_migrate.connect(storage_params.on_post_migrate, sender=self,
                             dispatch_uid="requests_app.storage_params")
        post_migrate.connect(audit_guard.on_post_migrate, sender=self, dispatch_uid="requests_app.audit_guard")
