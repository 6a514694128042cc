"""The only place the services name Celery tasks (sent after commit, like the core's enqueue)."""
from __future__ import annotations

from django.db import transaction


def execute(run_id: int, countdown: float | None = None) -> None:
    from . import tasks

    transaction.on_commit(lambda: tasks.execute_run.apply_async((run_id,), countdown=countdown))


def dry_run(run_id: int) -> None:
    from . import tasks

    transaction.on_commit(lambda: tasks.dry_run.delay(run_id))


def identity(case_id: int) -> None:
    from . import tasks

    transaction.on_commit(lambda: tasks.lookup_identity.delay(case_id))
