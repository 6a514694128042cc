from celery import shared_task

from . import heartbeat, retention


@shared_task(acks_late=True)
def watchdog() -> bool:
    """Beat, every minute, on the default queue: alerts once when the timers queue's sweep stalls."""
    return heartbeat.alert_if_stale()


@shared_task(acks_late=True)
def apply_retention() -> int:
    """Beat, daily: redact the cases whose retention period ended."""
    return retention.run_retention()
