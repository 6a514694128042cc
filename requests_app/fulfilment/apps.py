from django.apps import AppConfig


class FulfilmentConfig(AppConfig):
    name = "requests_app.fulfilment"
    label = "fulfilment"
    verbose_name = "Fulfilment: data map, tasks, access packages"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from requests_app import hooks

        from . import receivers, sweep_steps  # noqa: F401 - register the decision and sweep steps

        hooks.event_recorded.connect(receivers.on_event, dispatch_uid="fulfilment.on_event")
