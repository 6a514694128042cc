"""The e-mail outbox: queue a rendered e-mail as a row now, send it after commit.

A submission never waits on, or fails because of, the broker or the mail provider: the row is
written in the caller's transaction; the send task is published on commit (and a dead broker is
only logged); `flush_outbox` on the beat schedule picks up whatever is still pending.
"""
from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import Value
from django.template import TemplateDoesNotExist
from django.template.loader import render_to_string
from django.utils import timezone, translation

from . import enqueue, letters
from .models import LetterStatus, Notification, NotificationStatus

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 12  # ≈ 6 hours of provider outage before a message is given up (and logged as an error)
BACKOFF_BASE_SECONDS = 60  # 1, 2, 4, 8 … minutes between attempts
BACKOFF_MAX_SECONDS = 3600  # … but never more than an hour: deadline alerts must not wait for days
LETTER_WAIT_SECONDS = 60  # a message whose letter is still rendering is looked at again after this
WAITING_FOR_LETTER = "waiting for its letter to be rendered"
SEND_LEASE_MIN_SECONDS = 120  # see send_lease()


def backoff(attempts: int) -> dt.timedelta:
    """The wait after the `attempts`-th failed attempt: exponential, capped."""
    return dt.timedelta(seconds=min(BACKOFF_BASE_SECONDS * 2 ** max(attempts - 1, 0), BACKOFF_MAX_SECONDS))


def _is_permanent(exc: Exception) -> bool:
    """Errors a retry cannot fix: the provider refused every recipient, or an address is invalid."""
    from anymail.exceptions import AnymailInvalidAddress, AnymailRecipientsRefused

    return isinstance(exc, (AnymailRecipientsRefused, AnymailInvalidAddress))


def render_email(kind: str, context: dict, language: str) -> tuple[str, str, str]:
    """Subject, text and HTML bodies from templates/emails/<kind>-{subject,body}.txt|html."""
    with translation.override(language):
        subject = " ".join(render_to_string(f"emails/{kind}-subject.txt", context).split())
        text = render_to_string(f"emails/{kind}-body.txt", context)
        try:
            html = render_to_string(f"emails/{kind}-body.html", context)
        except TemplateDoesNotExist:
            html = ""
    return subject, text, html


def queue_email(kind: str, to: list[str] | str, *, context: dict, language: str = "en", case=None,
                letter=None, dedupe_key: str | None = None) -> Notification | None:
    """Write the e-mail to the outbox and send it once the surrounding transaction commits.
    With a dedupe_key, a second call for the same key queues nothing and returns None."""
    if isinstance(to, str):
        to = [to]
    if dedupe_key and Notification.objects.filter(dedupe_key=dedupe_key).exists():
        return None
    subject, text, html = render_email(kind, context, language)
    fields = dict(kind=kind, to=to, case=case, letter=letter, language=language,
                  subject=subject, body_text=text, body_html=html, dedupe_key=dedupe_key)
    if dedupe_key:
        try:  # a concurrent writer of the same key wins; ours is dropped, the caller's work is not
            with transaction.atomic():
                note = Notification.objects.create(**fields)
        except IntegrityError:
            return None
    else:
        note = Notification.objects.create(**fields)
    transaction.on_commit(lambda: publish(note.pk))
    return note


def queue_emails(messages: list[dict]) -> list[Notification]:
    """Bulk queue_email for many messages at once (the sweep's digests): rendered one by one,
    written with one INSERT, each published after commit. A message is a dict of queue_email's
    arguments (kind, to, context, language, dedupe_key). Keys already queued are skipped; should
    a concurrent writer win a key between the check and the INSERT, it falls back to queue_email
    one by one (which drops only that key)."""
    keys = [m["dedupe_key"] for m in messages if m.get("dedupe_key")]
    taken = set(Notification.objects.filter(dedupe_key__in=keys).values_list("dedupe_key", flat=True)) if keys \
        else set()
    rows = []
    for m in messages:
        if m.get("dedupe_key") in taken:
            continue
        to = [m["to"]] if isinstance(m["to"], str) else m["to"]
        language = m.get("language", "en")
        subject, text, html = render_email(m["kind"], m["context"], language)
        rows.append(Notification(kind=m["kind"], to=to, language=language, subject=subject, body_text=text,
                                 body_html=html, dedupe_key=m.get("dedupe_key")))
    try:
        with transaction.atomic():
            notes = _bulk_insert(rows)
    except IntegrityError:
        return [n for m in messages if m.get("dedupe_key") not in taken
                if (n := queue_email(m["kind"], m["to"], context=m["context"], language=m.get("language", "en"),
                                     dedupe_key=m.get("dedupe_key"))) is not None]
    ids = [n.pk for n in notes]
    transaction.on_commit(lambda: enqueue.send_notifications(ids))
    return notes


def _bulk_insert(rows: list[Notification]) -> list[Notification]:
    """bulk_create, as rows of values. On PostgreSQL, Django binds a bulk INSERT's columns as one
    array each (UNNEST), and psycopg's client-side binding escapes the items of a text array in
    Python: ~0.5 ms per digest, whose bodies are long (bench/sweep.py). An expression among the
    values keeps Django on plain VALUES rows, whose strings libpq escapes."""
    to = Notification._meta.get_field("to")
    for row in rows:
        row.to = Value(row.to, output_field=to)
    try:
        return Notification.objects.bulk_create(rows)
    finally:
        for row in rows:
            row.to = row.to.value


def publish(notification_id: int) -> None:
    # Broker down or silent: the row stays pending and flush_outbox sends it later (never raises).
    enqueue.send_notification(notification_id)


def send_lease() -> dt.timedelta:
    """How long a message being sent is left alone by every other worker and flush: longer than any
    provider call can last (EMAIL_TIMEOUT bounds SMTP and the HTTP providers' calls)."""
    return dt.timedelta(seconds=max(SEND_LEASE_MIN_SECONDS, 3 * settings.EMAIL_TIMEOUT))


def deliver(notification_id: int) -> str:
    """Send one pending notification. Idempotent: a sent row is never sent again. The row is
    claimed in a short transaction (row lock with skip_locked, then `next_attempt_at` pushed past
    the send lease, so no other worker or flush takes it); the provider call runs with no
    transaction or lock held, so a slow or hung provider never holds the database. At-least-once:
    a worker killed after the provider accepted the message but before the outcome was written
    sends it again once the lease has run out."""
    now = timezone.now()
    with transaction.atomic():
        note = (Notification.objects.select_for_update(skip_locked=True)
                .filter(pk=notification_id, status=NotificationStatus.PENDING, next_attempt_at__lte=now).first())
        if note is None:
            return "not-pending"
        if note.letter_id and note.letter.status == LetterStatus.FAILED:
            note.status = NotificationStatus.FAILED
            note.last_error = f"letter {note.letter_id} could not be rendered: {note.letter.error}"[:2000]
            note.save(update_fields=["status", "last_error"])
            log.error("notification %s gave up: %s", note.pk, note.last_error)
            return "failed"
        if note.letter_id and note.letter.status != LetterStatus.ISSUED:
            # render_letter_task sends it once the letter is rendered; flush_outbox looks again later.
            note.next_attempt_at = now + dt.timedelta(seconds=LETTER_WAIT_SECONDS)
            note.last_error = WAITING_FOR_LETTER
            note.save(update_fields=["next_attempt_at", "last_error"])
            return "waiting-for-letter"
        message = EmailMultiAlternatives(note.subject, note.body_text, settings.DEFAULT_FROM_EMAIL, note.to)
        if note.body_html:
            message.attach_alternative(note.body_html, "text/html")
        if note.letter_id:
            letter = note.letter
            with letter.file.open("rb") as fh:
                message.attach(f"{note.case.reference}-{letter.kind}.pdf", fh.read(), "application/pdf")
            for name, content, mime in letter_extras(letter):
                message.attach(name, content, mime)
        note.attempts += 1
        note.next_attempt_at = now + send_lease()  # claimed: nobody else sends it while we do
        if note.last_error == WAITING_FOR_LETTER:
            note.last_error = ""
        note.save(update_fields=["attempts", "next_attempt_at", "last_error"])
    mine = Notification.objects.filter(pk=note.pk, status=NotificationStatus.PENDING, attempts=note.attempts)
    try:
        message.send()
    except Exception as exc:  # provider down or refusing: back off and retry
        note.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        status = NotificationStatus.PENDING
        if note.attempts >= MAX_ATTEMPTS or _is_permanent(exc):
            status = NotificationStatus.FAILED
            log.error("notification %s gave up after %s attempts: %s", note.pk, note.attempts, note.last_error)
        else:
            log.warning("sending notification %s failed (attempt %s): %s", note.pk, note.attempts,
                        note.last_error)
        mine.update(last_error=note.last_error, status=status, next_attempt_at=now + backoff(note.attempts))
        return "failed"
    status = getattr(message, "anymail_status", None)
    mine.update(status=NotificationStatus.SENT, sent_at=timezone.now(), last_error="",
                provider_message_id=(getattr(status, "message_id", None) or "")[:200] if status else "")
    return "sent"


def letter_extras(letter) -> list[tuple[str, bytes, str]]:
    """Files that travel with a letter (the data of an access response)."""
    return letters.attachments_for(letter)


def waiting_for_letter(letter_id: int) -> list[int]:
    """The messages that waited for this letter, made due now (the letter is ready). A message that
    a worker is sending (its lease) is left alone."""
    waiting = Notification.objects.filter(letter_id=letter_id, status=NotificationStatus.PENDING)
    waiting.filter(last_error=WAITING_FOR_LETTER).update(next_attempt_at=timezone.now())
    return list(waiting.filter(next_attempt_at__lte=timezone.now()).values_list("pk", flat=True))


def due_ids(limit: int = 500) -> list[int]:
    return list(Notification.objects.filter(status=NotificationStatus.PENDING, next_attempt_at__lte=timezone.now())
                .order_by("next_attempt_at").values_list("pk", flat=True)[:limit])


PURGED = "[removed after the retention period; the letter and the audit trail keep what was said]"


def purge_sent_bodies(days: int | None = None) -> int:
    """Blank the bodies of e-mails sent more than `days` ago (DSAR_PURGE_SENT_EMAIL_BODIES_DAYS):
    they carry status links valid for 800 days and personal data that the case already keeps.
    Kind, recipients, subject and dates stay as the record that the e-mail went out."""
    days = settings.DSAR_PURGE_SENT_EMAIL_BODIES_DAYS if days is None else days
    cutoff = timezone.now() - dt.timedelta(days=days)
    return (Notification.objects.filter(status=NotificationStatus.SENT, sent_at__lt=cutoff)
            .exclude(body_text=PURGED).update(body_text=PURGED, body_html=""))
