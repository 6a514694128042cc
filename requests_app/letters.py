"""Response letters: frozen at decision time, rendered to PDF by the worker with WeasyPrint,
stored with their SHA-256 and never changed again."""
from __future__ import annotations

import hashlib
import logging

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from .models import Event, Letter, LetterStatus

log = logging.getLogger(__name__)

ACKNOWLEDGEMENT = "acknowledgement"
REQUEST_INFORMATION = "request_information"
EXTENSION_NOTICE = "extension_notice"
DETERMINATION = "determination"
FULFILMENT = "fulfilment"
DENIAL = "denial"
APPEAL_DECISION = "appeal_decision"
NOT_FILED = "not_filed"
KINDS = (ACKNOWLEDGEMENT, REQUEST_INFORMATION, EXTENSION_NOTICE, DETERMINATION, FULFILMENT, DENIAL,
         APPEAL_DECISION, NOT_FILED)


def issue_letter(case, kind: str, context: dict | None = None, *, appeal=None) -> Letter:
    """Record a letter in the caller's transaction; the worker renders it after commit."""
    if kind not in KINDS:
        raise ValueError(f"unknown letter kind '{kind}'")
    letter = Letter.objects.create(case=case, appeal=appeal, kind=kind, language=case.language,
                                   context=context or {})
    transaction.on_commit(lambda: publish(letter.pk))
    return letter


def publish(letter_id: int) -> None:
    from .tasks import render_letter_task

    try:
        render_letter_task.delay(letter_id)
    except Exception:  # broker down: flush_outbox renders pending letters later
        log.warning("broker unavailable; letter %s waits to be rendered", letter_id, exc_info=True)


def letter_context(letter: Letter) -> dict:
    case = letter.case
    jur = case.jurisdiction_info
    return {
        "letter": letter,
        "case": case,
        "regime": case.regime_info,
        "jurisdiction": jur,
        "request_type": case.request_type_info,
        "controller": settings.DSAR_CONTROLLERS[case.regime_info.controller],
        "c": letter.context,
        "appeal": letter.appeal,
        "today": timezone.localdate(timezone.now(), timezone=__import__("zoneinfo").ZoneInfo(jur.timezone)),
    }


def render_pdf(letter: Letter) -> bytes:
    from weasyprint import HTML

    with translation.override(letter.language):
        html = render_to_string(f"letters/{letter.kind}.html", letter_context(letter))
    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()


def render_letter(letter_id: int) -> str:
    """Render a pending letter once. Idempotent: an issued letter is left as it is."""
    with transaction.atomic():
        letter = Letter.objects.select_for_update().filter(pk=letter_id).first()
        if letter is None or letter.status == LetterStatus.ISSUED:
            return "not-pending"
        pdf = render_pdf(letter)
        letter.sha256 = hashlib.sha256(pdf).hexdigest()
        letter.size = len(pdf)
        letter.file.save(f"{letter.case.reference}-{letter.kind}-{letter.pk}.pdf", ContentFile(pdf), save=False)
        letter.status = LetterStatus.ISSUED
        letter.issued_at = timezone.now()
        letter.error = ""
        super(Letter, letter).save()  # the one permitted write: pending → issued
        Event.objects.create(case=letter.case, appeal=letter.appeal, actor_label="system", kind="letter_issued",
                             data={"letter": letter.pk, "kind": letter.kind, "sha256": letter.sha256},
                             public=True)
    return "issued"


def attachments_for(letter: Letter) -> list[tuple[str, bytes, str]]:
    """An access response carries the data itself, as JSON and CSV."""
    data = letter.context.get("data")
    if letter.kind != FULFILMENT or not data:
        return []
    import csv
    import io
    import json

    ref = letter.case.reference
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["category", "field", "value"])
    for category, fields in data.items():
        for field, value in (fields.items() if isinstance(fields, dict) else [("value", fields)]):
            writer.writerow([category, field, value])
    return [
        (f"{ref}-data.json", json.dumps(data, indent=2, ensure_ascii=False).encode(), "application/json"),
        (f"{ref}-data.csv", out.getvalue().encode(), "text/csv"),
    ]


def pending_ids(limit: int = 200) -> list[int]:
    return list(Letter.objects.filter(status=LetterStatus.PENDING).values_list("pk", flat=True)[:limit])
