"""E-mails to the requester (and their agent): who receives them and the links they carry.
Used by services and by anything else that writes to the requester, without importing services."""
from __future__ import annotations

from django.db import transaction
from django.db.models import Q
from django.urls import reverse

from . import regimes as R
from .models import DataSubjectRequest, DeadlineStatus, State
from .outbox import queue_email
from .tokens import CONFIRM, STATUS, absolute_url, make_token


def status_url(case) -> str:
    return absolute_url(reverse("public:status", args=[make_token(case, STATUS)]))


def confirm_url(case) -> str:
    return absolute_url(reverse("public:confirm", args=[make_token(case, CONFIRM)]))


def _email_context(case, **extra) -> dict:
    respond = case.deadlines.filter(kind__in=(R.RESPOND, R.DETERMINATION), status=DeadlineStatus.OPEN,
                                    appeal__isnull=True).order_by("due_at").first()
    return {"case": case, "regime": case.regime_info, "request_type": case.request_type_info,
            "status_url": status_url(case), "respond_due": respond.due_date if respond else None, **extra}


def _recipients(case) -> list[str]:
    to = [case.requester_email]
    if case.agent_email and case.agent_email.lower() != case.requester_email.lower():
        to.append(case.agent_email)
    return to


def notify_requester(case, kind: str, *, letter=None, dedupe: str | None = None, **extra) -> None:
    queue_email(kind, _recipients(case), context=_email_context(case, letter=letter, **extra),
                language=case.language, case=case, letter=letter,
                dedupe_key=f"{kind}:{case.pk}:{dedupe}" if dedupe else None)


def send_status_link(reference: str, email: str) -> None:
    """/status-link/: e-mail the status link again to an address on file, if the reference and the
    address match a case; nothing otherwise (the page says the same either way)."""
    case = (DataSubjectRequest.objects.filter(reference=reference)
            .filter(Q(requester_email__iexact=email) | Q(agent_email__iexact=email)).first())
    if case is None:
        return
    with transaction.atomic():
        if case.state == State.SUBMITTED:
            # Not confirmed yet: what the requester needs is a fresh confirmation link.
            notify_requester(case, "confirm_email", confirm_url=confirm_url(case), batch=[case], resent=True)
        else:
            notify_requester(case, "status_link")
