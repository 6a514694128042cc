from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "requests_app.intake"
    label = "intake"
    verbose_name = "Intake from every channel"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from anymail.signals import inbound

        from . import reminders, services, views_public  # noqa: F401 - register the sweep step and form gate

        from requests_app import hooks

        inbound.connect(services.on_inbound, dispatch_uid="intake-inbound")
        hooks.event_recorded.connect(services.on_event, dispatch_uid="intake-duplicates")
