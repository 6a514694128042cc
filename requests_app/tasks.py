"""Celery tasks: thin wrappers that load ids and call services. All idempotent, acked late."""
from celery import shared_task

from . import letters, outbox


@shared_task(acks_late=True)
def send_notification(notification_id: int) -> str:
    return outbox.deliver(notification_id)


@shared_task(acks_late=True)
def render_letter_task(letter_id: int) -> str:
    result = letters.render_letter(letter_id)
    # E-mails that carry this letter were waiting for it.
    from .models import Notification, NotificationStatus

    for pk in Notification.objects.filter(letter_id=letter_id, status=NotificationStatus.PENDING).values_list(
            "pk", flat=True):
        outbox.deliver(pk)
    return result


@shared_task(acks_late=True)
def flush_outbox() -> dict:
    """Render letters and send e-mails left pending (broker or provider was down)."""
    rendered = sent = 0
    for pk in letters.pending_ids():
        rendered += letters.render_letter(pk) == "issued"
    for pk in outbox.due_ids():
        sent += outbox.deliver(pk) == "sent"
    return {"rendered": rendered, "sent": sent}
