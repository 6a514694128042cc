"""Reminders before a task is due and escalation once it is overdue, each exactly once per task
and level (a conditional UPDATE claims the level, as the core sweep claims clock alerts), sent
as one digest per recipient; and the expiry of access packages. Runs inside the core's one sweep."""
from __future__ import annotations

import datetime as dt
import hashlib

from django.conf import settings
from django.db import transaction
from django.urls import reverse

from requests_app import hooks
from requests_app import services as core
from requests_app.outbox import queue_emails
from requests_app.sweep import manager_emails
from requests_app.tokens import absolute_url

from . import services
from .models import DataSystem, Task, TaskState

REMINDED, ESCALATED = 1, 2


def claim(level: int, due_before: dt.datetime) -> list[Task]:
    """Tasks whose `level` is now due, claimed so that no other sweep claims them again."""
    with transaction.atomic():
        ids = list(Task.objects.select_for_update(skip_locked=True)
                   .filter(state=TaskState.OPEN, due_at__lte=due_before, reminder_level__lt=level)
                   .values_list("pk", flat=True))
        if not ids:
            return []
        Task.objects.filter(pk__in=ids, reminder_level__lt=level).update(reminder_level=level)
    return list(Task.objects.filter(pk__in=ids).select_related("case", "case__assignee", "system",
                                                                  "system__owner", "assignee"))


def _owner(task: Task) -> str:
    """Who hears of a staff task (a vendor is written to through its link, never sent staff pages)."""
    if task.system.work_mode == DataSystem.WorkMode.VENDOR:
        return ""
    return (task.assignee.email if task.assignee_id and task.assignee.email else "") or task.system.owner_address


@hooks.sweep_step("fulfilment")
def sweep(now) -> dict:
    escalated = claim(ESCALATED, now)
    reminded = claim(REMINDED, now + dt.timedelta(days=settings.DSAR_TASK_REMIND_DAYS))
    digests: dict[str, list[dict]] = {}
    for task in reminded:
        if task.system.work_mode == DataSystem.WorkMode.VENDOR:
            with transaction.atomic():
                services.send_vendor_link(task)  # the reminder carries a fresh single-use link
        elif _owner(task):
            digests.setdefault(_owner(task), []).append(services._item(task, "due soon"))
    managers = manager_emails() if escalated else []
    for task in escalated:
        if task.system.work_mode == DataSystem.WorkMode.VENDOR:
            with transaction.atomic():
                services.send_vendor_link(task)  # overdue: the vendor is asked again, with a fresh link
        item = services._item(task, "OVERDUE")
        recipients = {_owner(task), *(managers or [settings.DSAR_TEAM_EMAIL])}
        if task.case.assignee_id and task.case.assignee.email:
            recipients.add(task.case.assignee.email)
        for address in filter(None, recipients):
            digests.setdefault(address, []).append(item)
        with transaction.atomic():
            core.record(task.case, "task_escalated", actor_label=core.SYSTEM,
                        reason=f"The {task.get_action_display().lower()} task in {task.system.name} was due "
                               f"{task.due_at:%Y-%m-%d %H:%M} UTC; escalated to the case's assignee and managers.",
                        data={"task": task.pk, "system": task.system.name})
    with transaction.atomic():
        queue_emails([{"kind": "fulfilment_digest", "to": address, "context": {
            "items": items, "now": now, "tasks_url": absolute_url(reverse("fulfilment:my_tasks"))},
            "dedupe_key": "fulfilment-digest:" + hashlib.sha256(
                f"{address}:{now.isoformat()}:{[i['url'] for i in items]}".encode()).hexdigest()[:40]}
            for address, items in digests.items()])
    expired = services.expire_packages(now)
    return {"reminded": len(reminded), "escalated": len(escalated), "digests": len(digests),
            "packages_expired": expired}
