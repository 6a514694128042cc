"""From the core's hooks to webhook deliveries. Payloads carry identifiers, states and dates,
never the requester's personal data: a receiver that needs more reads it through the API."""
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


def event_type(event) -> str | None:
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
    data = {**_case_data(event.case), "event_id": event.pk, "event": event.kind, "from_state": event.from_state,
            "to_state": event.to_state, "appeal_id": event.appeal_id, "actor": event.actor_label}
    if kind == "letter.issued":
        data.update(letter_id=event.data.get("letter"), letter_kind=event.data.get("kind"),
                    sha256=event.data.get("sha256"))
    return services.queue(kind, f"event:{event.pk}", data, at=event.created_at)


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
