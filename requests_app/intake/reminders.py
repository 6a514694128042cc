"""Reminders to confirm the e-mail address, run as a step of the one deadline sweep.

One reminder DSAR_CONFIRM_REMINDER_AFTER_HOURS after the request arrived, another
DSAR_CONFIRM_REMINDER_BEFORE_CLOSE_DAYS before the unconfirmed request is closed. "Once" is the
outbox's unique dedupe key: repeated and concurrent sweeps cannot queue a second copy.
"""
from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.db.models import CharField, Exists, OuterRef, Value
from django.db.models.functions import Cast, Concat

from requests_app import hooks
from requests_app import regimes as R
from requests_app import services as core
from requests_app.models import DataSubjectRequest, Deadline, DeadlineStatus, Notification, State
from requests_app.outbox import queue_email

KIND = "confirm_reminder"
FIRST, LAST = "after-arrival", "before-closure"
MAX_PER_SWEEP = 2000  # the rest go in the next sweep, minutes later


def _key(case, which: str) -> str:
    return f"{KIND}:{case.pk}:{which}"


def _due(which: str, now: dt.datetime):
    """Cases whose `which` reminder is due and not yet queued."""
    window = Deadline.objects.filter(case=OuterRef("pk"), kind=R.CONFIRM_EMAIL, status=DeadlineStatus.OPEN)
    if which == FIRST:
        window = window.filter(due_at__gt=now)
        since = now - dt.timedelta(hours=settings.DSAR_CONFIRM_REMINDER_AFTER_HOURS)
        qs = DataSubjectRequest.objects.filter(received_at__lte=since)
    else:
        window = window.filter(due_at__gt=now,
                               due_at__lte=now + dt.timedelta(days=settings.DSAR_CONFIRM_REMINDER_BEFORE_CLOSE_DAYS))
        qs = DataSubjectRequest.objects.all()
    sent = Notification.objects.filter(dedupe_key=OuterRef("dedupe"))
    return (qs.filter(state=State.SUBMITTED, email_confirmed_at__isnull=True)
            .filter(Exists(window))
            .annotate(dedupe=Concat(Value(f"{KIND}:"), Cast("pk", CharField()), Value(f":{which}")))
            .exclude(Exists(sent))
            # Cases filed together share one confirmation link, so one reminder, keyed on the first.
            .exclude(Exists(DataSubjectRequest.objects.filter(batch_id=OuterRef("batch_id"), pk__lt=OuterRef("pk"))))
            .order_by("pk"))


@hooks.sweep_step("intake-confirm-reminders")
def send_confirm_reminders(now: dt.datetime) -> dict:
    counts = {FIRST: 0, LAST: 0}
    for which in (FIRST, LAST):
        for case in _due(which, now)[:MAX_PER_SWEEP]:
            if case.by_post:
                continue
            batch = list(DataSubjectRequest.objects.filter(batch_id=case.batch_id, state=State.SUBMITTED)
                         .order_by("pk"))
            close = case.deadlines.filter(kind=R.CONFIRM_EMAIL, status=DeadlineStatus.OPEN).first()
            with transaction.atomic():
                note = queue_email(KIND, core._recipients(case), language=case.language, case=case,
                                   dedupe_key=_key(case, which),
                                   context=core._email_context(case, confirm_url=core.confirm_url(case), batch=batch,
                                                               closes_on=close.due_date if close else None))
                if note is not None:
                    core.record(case, "confirm_reminder_sent", actor_label=core.SYSTEM, data={"which": which})
                    counts[which] += 1
    return counts
