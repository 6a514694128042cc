from django.apps import AppConfig
from django.db.models.signals import post_migrate


class RequestsAppConfig(AppConfig):
    name = "requests_app"
    verbose_name = "Data subject requests"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import storage_params

        post_migrate.connect(storage_params.on_post_migrate, sender=self,
                             dispatch_uid="requests_app.storage_params")
