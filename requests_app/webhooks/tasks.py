from celery import shared_task

from . import services


@shared_task(acks_late=True)
def deliver_webhooks() -> dict:
    """Send the webhook deliveries that are due (published when some are queued)."""
    return services.deliver_due()
