"""From the core's hooks to webhook deliveries. Payloads carry identifiers, states and dates,
never the requester's personal data: a receiver that needs more reads it through the API.

Fulfilment tasks are followed through the audit Events the fulfilment app records for every task
change (hooks.event_recorded, after commit): that app knows nothing of webhooks, and a task change is
keyed by its Event like every other change, so it is queued once per subscription and task."""
from __future__ import annotations

from django.db import transaction

from ..models import AlertLevel
from . import services

ALERT_TYPES = {AlertLevel.DUE_SOON: "clock.due_soon", AlertLevel.URGENT: "clock.urgent",
               AlertLevel.OVERDUE: "clock.overdue"}


def _case_data(case) -> dict:
    return {"case_id": case.pk, "reference": case.reference, "public_id": str(case.public_id),
            "jurisdiction": case.jurisdiction, "regime": case.regime, "request_type": case.request_type,
            "state": case.state, "next_due_at": case.next_due_at.isoformat() if case.next_due_at else None}


# The fulfilment app's task events (fulfilment/services.py). Their from/to states are the task's.
TASK_TYPES = {
    "tasks_created": "task.created",
    "task_answered": "task.state_changed",
    "task_reopened": "task.state_changed",
    "tasks_closed": "task.state_changed",
    "tasks_resumed": "task.state_changed",
    "task_reassigned": "task.reassigned",
    "task_due_recomputed": "task.due_changed",
}


def _iso(moment) -> str | None:
    return moment.isoformat() if moment else None


def event_type(event) -> str | None:
    if event.kind in TASK_TYPES:
        return TASK_TYPES[event.kind]
    if event.kind == "submitted":
        return "request.created"
    if event.kind == "letter_issued":
        return "letter.issued"
    if event.to_state and event.from_state and event.from_state != event.to_state:
        return "appeal.state_changed" if event.appeal_id else "request.state_changed"
    if event.kind == "appeal_filed":
        return "appeal.state_changed"
    return None


def queue_event(event) -> int:
    kind = event_type(event)
    if kind is None:
        return 0
    if event.kind in TASK_TYPES:
        return queue_task_event(event, kind)
    data = {**_case_data(event.case), "event_id": event.pk, "event": event.kind, "from_state": event.from_state,
            "to_state": event.to_state, "appeal_id": event.appeal_id, "actor": event.actor_label}
    if kind == "letter.issued":
        data.update(letter_id=event.data.get("letter"), letter_kind=event.data.get("kind"),
                    sha256=event.data.get("sha256"))
    return services.queue(kind, f"event:{event.pk}", data, at=event.created_at)


def _task_changes(event) -> dict[int, tuple[str | None, str | None]]:
    """Task id → (from_state, to_state) for each task the event is about (no states: not a state change)."""
    from ..fulfilment.models import TaskState

    data = event.data or {}
    if data.get("task") is not None:  # one task: answered, reopened, reassigned
        return {int(data["task"]): (event.from_state or None, event.to_state or None)}
    ids = [int(pk) for pk in data.get("task_ids", [])]
    if event.kind == "tasks_created":
        return {pk: (None, TaskState.OPEN) for pk in ids}
    if event.kind == "tasks_closed":
        return {pk: (TaskState.OPEN, TaskState.NOT_APPLICABLE) for pk in ids}
    if event.kind == "tasks_resumed":
        left = data.get("from_states", {})
        return {pk: (left.get(str(pk)), TaskState.OPEN) for pk in ids}
    return {pk: (None, None) for pk in ids}


def queue_task_event(event, kind: str) -> int:
    """One delivery per task the event changed, keyed by event and task. The task's system, action,
    owner and dates are read just after the commit that recorded the change; free text (reasons,
    notes) stays out, it may name the requester."""
    from ..fulfilment.models import Task

    changes = _task_changes(event)
    if not changes or not services.has_subscribers():
        return 0
    base = {**_case_data(event.case), "event_id": event.pk, "event": event.kind, "actor": event.actor_label}
    if kind == "task.reassigned":
        base.update(from_assignee=event.data.get("from") or None, to_assignee=event.data.get("to") or None)
    if kind == "task.due_changed":
        base.update(cause=event.data.get("cause"), clock=event.data.get("clock"))
    items = []
    for task in Task.objects.filter(pk__in=changes).select_related("system", "assignee").order_by("pk"):
        from_state, to_state = changes[task.pk]
        items.append((kind, f"event:{event.pk}:task:{task.pk}", {
            **base, "task_id": task.pk, "system_id": task.system_id, "system": task.system.name,
            "system_kind": task.system.kind, "work_mode": task.system.work_mode, "action": task.action,
            "task_state": to_state or task.state, "from_state": from_state, "to_state": to_state,
            "assignee": task.assignee.get_username() if task.assignee_id else None,
            "due_at": _iso(task.due_at), "legal_due_at": _iso(task.legal_due_at),
            "reason_code": task.reason_code or None, "records_affected": task.records_affected}))
    return services.queue_many(items, at=event.created_at)


def on_event_recorded(sender, event, **kwargs):
    queue_event(event)


def on_event_saved(sender, instance, created, **kwargs):
    if created and instance.kind == "letter_issued":
        transaction.on_commit(lambda: queue_event(instance))


def on_clocks_alerted(sender, claims, **kwargs):
    from ..models import DataSubjectRequest

    claims = [c for c in claims if c.is_obligation and c.level in ALERT_TYPES]
    if not claims:
        return
    if not services.has_subscribers():
        return
    cases = DataSubjectRequest.objects.in_bulk({c.case_id for c in claims})
    items = [(ALERT_TYPES[c.level], f"alert:{c.deadline_id}:{c.level}:{c.due_at:%Y%m%d}",
              {**_case_data(cases[c.case_id]), "clock_id": c.deadline_id, "clock": c.kind,
               "appeal_id": c.appeal_id, "due_at": c.due_at.isoformat()})
             for c in claims if c.case_id in cases]
    services.queue_many(items)
