"""Inside the core's one sweep: re-queue connector runs a killed worker left (lease over) or whose
message was lost, fail runs whose service never called back, and tell the owner of each failed
connector task once (claimed by a conditional UPDATE, like every sweep alert)."""
from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.urls import reverse

from requests_app import hooks
from requests_app.outbox import queue_email
from requests_app.tokens import absolute_url

from . import enqueue, services
from .models import Run, RunState


@hooks.sweep_step("connectors")
def connectors_step(now) -> dict:
    lease = now - dt.timedelta(seconds=settings.DSAR_CONNECTOR_LEASE_SECONDS)
    stuck = list(Run.objects.filter(Q(state=RunState.RUNNING, claimed_at__lt=lease) |
                                    Q(state=RunState.QUEUED, updated_at__lt=lease,
                                      next_attempt_at__isnull=True) |
                                    Q(state=RunState.QUEUED, next_attempt_at__lt=lease))
                 .values_list("pk", flat=True)[:500])
    with transaction.atomic():
        for pk in stuck:
            enqueue.execute(pk)  # the claim decides: a live worker's run is not taken over
    silent = 0
    for run in Run.objects.filter(state=RunState.WAITING, callback_deadline__lt=now).select_related("connector"):
        with transaction.atomic():
            locked = Run.objects.select_for_update().get(pk=run.pk)
            if locked.state != RunState.WAITING:
                continue
            locked.error = f"The service accepted the request but did not call back within " \
                           f"{settings.DSAR_CONNECTOR_CALLBACK_HOURS} h."
            services._fail_task(locked, f"Connector: {locked.error}")
            silent += 1
    return {"requeued": len(stuck), "no_callback": silent, "alerted": alert_failures(now)}


def alert_failures(now) -> int:
    ids = list(Run.objects.filter(state=RunState.FAILED, failure_alerted_at__isnull=True).values_list("pk", flat=True))
    sent = 0
    for pk in ids:
        with transaction.atomic():
            if not Run.objects.filter(pk=pk, failure_alerted_at__isnull=True).update(failure_alerted_at=now):
                continue  # another sweep told them
            run = Run.objects.select_related("task__case__assignee", "task__system__owner", "task__assignee").get(pk=pk)
            task = run.task
            to = [a for a in {task.system.owner_address,
                              task.case.assignee.email if task.case.assignee_id else "",
                              settings.DSAR_TEAM_EMAIL} if a]
            queue_email("connector_failed", sorted(to), case=task.case, context={
                "reference": task.case.reference, "system": task.system.name, "action": task.get_action_display(),
                "error": run.error, "due": task.due_at,
                "url": absolute_url(reverse("staff:case", args=[task.case_id])) + "#connectors"})
            sent += 1
    return sent
