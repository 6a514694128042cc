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
    to = [case.requester_email] if case.requester_email else []  # a GPC opt-out may have no address
    if case.agent_email and case.agent_email.lower() != case.requester_email.lower():
        to.append(case.agent_email)
    return to


def notify_requester(case, kind: str, *, letter=None, dedupe: str | None = None, **extra) -> None:
    if case.by_post or not _recipients(case):
        return  # no address to write to: the letters are printed (the case page says so)
    queue_email(kind, _recipients(case), context=_email_context(case, letter=letter, **extra),
                language=case.language, case=case, letter=letter,
                dedupe_key=f"{kind}:{case.pk}:{dedupe}" if dedupe else None)


RESPOND_KINDS = (R.RESPOND, R.DETERMINATION)


def with_respond_due(cases: list, clocks: dict | None = None) -> list:
    """The cases, each with `respond_due_date` set: the confirmation e-mail meets the CCPA
    acknowledge clock only if it says when to expect a response (11 CCR §7021(a)). `clocks`
    (case pk → its Deadlines, e.g. just started) saves reading them again."""
    for case in cases:
        found = clocks[case.pk] if clocks is not None else case.deadlines.filter(
            kind__in=RESPOND_KINDS, status=DeadlineStatus.OPEN, appeal__isnull=True)
        respond = min((d for d in found if d.kind in RESPOND_KINDS and d.status == DeadlineStatus.OPEN
                       and d.appeal_id is None), key=lambda d: d.due_at, default=None)
        case.respond_due_date = respond.due_date if respond else None
    return cases


MAX_LINKS = 20  # the most recent requests of one address; older ones are in the earlier e-mails


def send_status_link(reference: str, email: str) -> None:
    """/status-link/: send each request made with (or for, as agent) this address its link. The
    reference is optional, because a person who lost our e-mails has lost it too; nothing is sent
    when nothing matches (the page says the same either way)."""
    cases = DataSubjectRequest.objects.filter(Q(requester_email__iexact=email) | Q(agent_email__iexact=email))
    if reference:
        cases = cases.filter(reference=reference)
    with transaction.atomic():
        for case in cases.order_by("-pk")[:MAX_LINKS]:
            if case.state == State.SUBMITTED:
                # Not confirmed yet: what the requester needs is a fresh confirmation link.
                notify_requester(case, "confirm_email", confirm_url=confirm_url(case),
                                 batch=with_respond_due([case]), resent=True)
            else:
                notify_requester(case, "status_link")
