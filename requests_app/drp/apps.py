from django.apps import AppConfig


class DrpConfig(AppConfig):
    name = "requests_app.drp"
    label = "drp"
    verbose_name = "Data Rights Protocol"

    def ready(self):
        from requests_app import hooks

        from . import callbacks

        hooks.event_recorded.connect(callbacks.on_event_recorded, dispatch_uid="drp-status-callbacks")
