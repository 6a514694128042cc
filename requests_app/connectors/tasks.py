"""Celery tasks: thin; the services claim and record (idempotent, acked late)."""
from celery import shared_task

from . import services


@shared_task(acks_late=True)
def execute_run(run_id: int) -> str:
    return services.execute(run_id)


@shared_task(acks_late=True)
def dry_run(run_id: int) -> str:
    return services.dry_run(run_id)


@shared_task(acks_late=True)
def lookup_identity(case_id: int) -> str | None:
    return services.lookup_identity(case_id)
