"""What the connectors app does when the core records an event (hooks.event_recorded, after commit)."""
from __future__ import annotations

from . import enqueue, services
from .models import Connector


def on_event(sender, event, **kwargs):
    if event.kind == "tasks_created":
        services.plan_case(event.case)  # fulfilment fanned the case out: the connector tasks start
    elif event.kind == "confirm_email" and Connector.objects.filter(identity_source=True, enabled=True).exists():
        from django.db import transaction

        with transaction.atomic():
            enqueue.identity(event.case_id)
