from django.apps import AppConfig


class OpsConfig(AppConfig):
    """Running the product: health and readiness, the timers' dead man's switch, Prometheus
    metrics, structured logs with a request id, and retention of closed cases."""

    name = "requests_app.ops"
    label = "ops"
    verbose_name = "Operations"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import checks, heartbeat, logs  # noqa: F401 - registers checks, the sweep step, Celery signals
