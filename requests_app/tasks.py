"""Celery tasks: thin wrappers that load ids and call plain functions. All idempotent, acked late
(settings: a task whose worker dies is redelivered; running it twice does no harm).

Queues (settings.CELERY_TASK_ROUTES): the deadline sweep runs on the `timers` queue, so a pile of
PDF letters to render (default queue) never delays an alert; e-mail sends and the outbox flush run
on the `mail` queue, served by workers of their own, so a slow or hung mail provider never delays
the sweep either (`celery -A dsar worker -Q celery,timers` and `celery -A dsar worker -Q mail`)."""
import logging

from celery import shared_task

from . import letters, notify, outbox, services, uploads
from . import sweep as sweep_mod

log = logging.getLogger(__name__)


@shared_task(acks_late=True)
def send_notification(notification_id: int) -> str:
    return outbox.deliver(notification_id)


@shared_task(acks_late=True)
def render_letter_task(letter_id: int) -> str:
    result = letters.render_letter(letter_id)
    # E-mails that carry this letter were waiting for it.
    for pk in outbox.waiting_for_letter(letter_id):
        outbox.deliver(pk)
    return result


@shared_task(acks_late=True)
def sweep() -> dict:
    """Claim and act on every deadline that crossed a threshold (beat: every DSAR_SWEEP_SECONDS).
    Safe to run twice or concurrently: each threshold step is claimed by one conditional UPDATE.
    Each execution is its own run (a fresh run id): a redelivered task must not reuse the outbox
    keys of digests its first execution committed, or the new claims' digests would be dropped."""
    return sweep_mod.run_sweep().as_dict()


def _render_pending_letters() -> tuple[int, int, int]:
    """Render the letters left pending, each isolated (one that cannot render does not hold back
    the others), and send the e-mails that waited for each. Returns (rendered, sent, failed)."""
    rendered = sent = failed = 0
    for pk in letters.pending_ids():
        try:
            if letters.render_letter(pk) == "issued":
                rendered += 1
                for note in outbox.waiting_for_letter(pk):
                    sent += outbox.deliver(note) == "sent"
        except Exception:  # noqa: BLE001 - logged and recorded on the letter; retried on the next flush
            failed += 1
            log.exception("rendering letter %s failed", pk)
    return rendered, sent, failed


def _send_due(limit: int) -> tuple[int, int]:
    sent = failed = 0
    for pk in outbox.due_ids(limit):
        try:
            sent += outbox.deliver(pk) == "sent"
        except Exception:  # noqa: BLE001 - deliver records provider errors itself; this is anything else
            failed += 1
            log.exception("delivering notification %s failed", pk)
    return sent, failed


@shared_task(acks_late=True)
def flush_outbox(limit: int = 500, render_letters: bool = True) -> dict:
    """Render letters and send e-mails left pending (broker or provider was down, or a worker died).
    Beat runs it on the timers queue with render_letters=False, and render_pending_letters on the
    default queue: PDF rendering must never hold up the queue that alerts go through."""
    rendered, sent, failed = _render_pending_letters() if render_letters else (0, 0, 0)
    more_sent, send_failed = _send_due(limit)
    return {"rendered": rendered, "sent": sent + more_sent, "failed": failed + send_failed}


@shared_task(acks_late=True)
def render_pending_letters() -> dict:
    """The letter half of flush_outbox, on the default queue (beat: with the outbox flush)."""
    rendered, sent, failed = _render_pending_letters()
    return {"rendered": rendered, "sent": sent, "failed": failed}


@shared_task(acks_late=True)
def purge_pending_uploads() -> int:
    """Delete the uploads that abandoned request forms parked more than a day ago (beat: daily)."""
    removed = uploads.purge_pending()
    if removed:
        log.info("purged %s abandoned upload(s)", removed)
    return removed


@shared_task(acks_late=True)
def accept_waiting_opt_outs() -> int:
    """Opt-outs an earlier version left waiting for an e-mail confirmation (beat: daily)."""
    accepted = services.accept_waiting_opt_outs()
    if accepted:
        log.warning("accepted %s opt-out(s) that were waiting for an e-mail confirmation", accepted)
    return accepted


@shared_task(acks_late=True)
def purge_sent_email_bodies() -> int:
    """Blank the bodies of e-mails sent longer ago than the retention setting (beat: daily)."""
    purged = outbox.purge_sent_bodies()
    if purged:
        log.info("purged the bodies of %s sent e-mail(s)", purged)
    return purged


@shared_task(acks_late=True)
def send_status_link(reference: str, email: str) -> None:
    """/status-link/ hands the look-up here, so the page answers in the same time either way."""
    notify.send_status_link(reference, email)
