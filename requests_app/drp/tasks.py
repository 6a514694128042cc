"""Thin Celery task: deliver one status callback (callbacks.py has the rules)."""
from celery import shared_task

from . import callbacks


@shared_task(acks_late=True)
def deliver_callback(callback_id: int) -> str:
    return callbacks.deliver(callback_id)
