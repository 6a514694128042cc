from __future__ import annotations

from collections import defaultdict

from django.db.models.functions import Upper

from requests_app.models import OPEN_STATES, DataSubjectRequest

from .models import BlockedSender, InboundMessage, InboxState


def inbox(state: str = InboxState.NEW):
    return (InboundMessage.objects.filter(state=state).select_related("thread_case", "handled_by")
            .prefetch_related("attachments").order_by("received_at", "id"))


def open_cases_by_sender(addresses) -> dict[str, list[DataSubjectRequest]]:
    """Open cases per sender address (upper-cased), in one query: the inbox's likely duplicates."""
    keys = {a.upper() for a in addresses if a}
    found = defaultdict(list)
    if keys:
        rows = (DataSubjectRequest.objects.annotate(email_u=Upper("requester_email"))
                .filter(email_u__in=keys, state__in=OPEN_STATES).order_by("received_at"))
        for case in rows:
            found[case.email_u].append(case)
    return found


def blocks():
    return BlockedSender.objects.select_related("created_by", "lifted_by")
