from django.apps import AppConfig


class ConnectorsConfig(AppConfig):
    name = "requests_app.connectors"
    label = "connectors"
    verbose_name = "Connectors: SQL and HTTP systems worked automatically, identity matching"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from requests_app import hooks

        from . import panels, receivers, sweep_steps  # noqa: F401 - register the case panel and sweep step

        hooks.event_recorded.connect(receivers.on_event, dispatch_uid="connectors.on_event")
