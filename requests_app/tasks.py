"""Celery tasks: thin wrappers that load ids and call plain functions. All idempotent, acked late
(settings: a task whose worker dies is redelivered; running it twice does no harm)."""
import logging

from celery import shared_task

from . import letters, outbox, sweep as sweep_mod

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


@shared_task(acks_late=True)
def flush_outbox(limit: int = 500) -> dict:
    """Render letters and send e-mails left pending (broker or provider was down, or a worker died).
    Each item is isolated: one letter that cannot render does not hold back the others."""
    rendered = sent = failed = 0
    for pk in letters.pending_ids():
        try:
            rendered += letters.render_letter(pk) == "issued"
        except Exception:  # noqa: BLE001 - logged; retried on the next flush
            failed += 1
            log.exception("rendering letter %s failed", pk)
    for pk in outbox.due_ids(limit):
        try:
            sent += outbox.deliver(pk) == "sent"
        except Exception:  # noqa: BLE001 - deliver records provider errors itself; this is anything else
            failed += 1
            log.exception("delivering notification %s failed", pk)
    return {"rendered": rendered, "sent": sent, "failed": failed}
