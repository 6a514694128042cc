"""Retention: a closed case's requester data is redacted once its records need no longer be kept.

11 CCR §7101(a) requires records of requests and responses for at least 24 months; the policy keeps
them no longer than that. DSAR_RETENTION_MONTHS may lengthen the period, never shorten it (checks.py).
What stays: the case's reference, regime, type, states, dates, clocks and the audit trail (what
happened and when, by which staff member), without the person: names, addresses, identifiers,
free text, uploaded files, letters' files and e-mail bodies are removed. Idempotent (a Redaction row
per case, claimed under the case's row lock) and audited."""
from __future__ import annotations

import datetime as dt
import logging

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from requests_app import audit_guard, services
from requests_app.models import Appeal, Attachment, DataSubjectRequest, Event, Letter, Note, Notification

from .models import Redaction

log = logging.getLogger(__name__)

MINIMUM_MONTHS = 24  # 11 CCR §7101(a)
REDACTED = "[redacted]"
# Event data that describe what happened, never who: everything else in an event's data is dropped.
KEPT_EVENT_KEYS = {"jurisdiction", "regime", "request_type", "filer", "via_gpc", "clock", "due", "source",
                   "deadline", "kind", "status", "outcome", "from", "to", "days", "level", "limit", "letter",
                   "sha256", "channel"}


def retention_months() -> int:
    return max(MINIMUM_MONTHS, settings.DSAR_RETENTION_MONTHS)


def cutoff(now: dt.datetime | None = None) -> dt.datetime:
    return (now or timezone.now()) - relativedelta(months=retention_months())


def due_cases(now: dt.datetime | None = None):
    """Closed cases past the retention period and not yet redacted (the dry run lists these).
    A case with an appeal still open is not closed for this purpose."""
    return (DataSubjectRequest.objects.filter(closed_at__isnull=False, closed_at__lte=cutoff(now),
                                              redaction__isnull=True)
            .exclude(pk__in=Appeal.objects.filter(decided_at__isnull=True).values("case_id"))
            .order_by("closed_at", "id"))


def _delete_file(field) -> int:
    if not field:
        return 0
    try:
        field.storage.delete(field.name)
    except Exception:  # noqa: BLE001 - a file already gone is what we want; log anything else
        log.warning("could not delete %s", field.name, exc_info=True)
    return 1


def redact_case(case_id: int, *, now: dt.datetime | None = None) -> bool:
    """Redact one case. Returns False when it was already redacted or is not (or no longer) due."""
    now = now or timezone.now()
    with transaction.atomic():
        case = DataSubjectRequest.objects.select_for_update().filter(pk=case_id).first()
        if case is None or case.closed_at is None or case.closed_at > cutoff(now):
            return False
        try:
            with transaction.atomic():
                redaction = Redaction.objects.create(case=case, redacted_at=now, retention_months=retention_months())
        except IntegrityError:
            return False
        files = [a.file for a in Attachment.objects.filter(case=case)]
        files += [letter.file for letter in Letter.objects.filter(case=case)]
        # Rows first, files after commit: a rollback must not leave rows pointing at deleted files.
        Attachment.objects.filter(case=case).update(file="", original_name=REDACTED)
        # Issued letters are immutable for everyone else (LetterQuerySet); retention is the one
        # exception, so the base QuerySet.update: the hash stays as proof of what was sent.
        models.QuerySet.update(Letter.objects.filter(case=case), file="", context={"redacted": True})
        Note.objects.filter(case=case).update(text=REDACTED)
        Notification.objects.filter(case=case).update(to=[], subject=REDACTED, body_text="", body_html="")
        Appeal.objects.filter(case=case).update(statement=REDACTED, decision_reasons=REDACTED)
        audit_guard.allow_redaction()  # the database refuses any other change to an audit event
        for event in Event.objects.filter(case=case).only("id", "data", "reason"):
            data = {k: v for k, v in (event.data or {}).items() if k in KEPT_EVENT_KEYS}
            if data != event.data or event.reason:
                models.QuerySet.update(Event.objects.filter(pk=event.pk), data=data, reason="")
        DataSubjectRequest.objects.filter(pk=case.pk).update(
            requester_name=REDACTED, requester_email="", account_id="", phone="", data_description="",
            details="", agent_name="", agent_email="", agent_organisation="", decision={},
            decision_reasons="", version=models.F("version") + 1)
        services.record(case, "redacted", actor_label="system",
                        reason=f"Retention period of {redaction.retention_months} months after closing ended "
                               "(11 CCR §7101); the requester's personal data was removed.",
                        data={"months": redaction.retention_months, "files": len([f for f in files if f])})
        Redaction.objects.filter(pk=redaction.pk).update(files_deleted=len([f for f in files if f]))
        transaction.on_commit(lambda: [_delete_file(f) for f in files])
    return True


def run_retention(*, now: dt.datetime | None = None, limit: int = 500) -> int:
    done = 0
    for case_id in due_cases(now).values_list("id", flat=True)[:limit]:
        try:
            done += redact_case(case_id, now=now)
        except Exception:  # noqa: BLE001 - one case must not stop the others; retried tomorrow
            log.exception("redacting case %s failed", case_id)
    if done:
        log.info("retention: redacted %s case(s)", done)
    return done
