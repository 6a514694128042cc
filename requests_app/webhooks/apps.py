from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "requests_app.webhooks"
    label = "webhooks"
    verbose_name = "Outbound webhooks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.db.models.signals import post_save

        from .. import hooks
        from ..models import Event
        from . import receivers, sweep  # noqa: F401 - registers the sweep step

        hooks.event_recorded.connect(receivers.on_event_recorded, dispatch_uid="webhooks.event")
        hooks.clocks_alerted.connect(receivers.on_clocks_alerted, dispatch_uid="webhooks.clocks")
        # The worker records 'letter_issued' directly (letters.render_letter), not through
        # services.record, so event_recorded never carries it.
        post_save.connect(receivers.on_event_saved, sender=Event, dispatch_uid="webhooks.letter")
