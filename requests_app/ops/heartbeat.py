"""The timers' dead man's switch. A deadline nobody watches is the failure this product exists to
prevent, so the sweep records each completed run, and anything that can notice its silence does:
`/readyz`, the staff pages (a banner for managers) and the `ops.tasks.watchdog` beat task on the
default queue (which still runs when the timers queue is stuck). The first to notice claims the
alert with a conditional UPDATE, so a stall causes exactly one e-mail to the team address."""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.dispatch import receiver
from django.utils import timezone

from requests_app import hooks, outbox

from .models import Heartbeat

log = logging.getLogger(__name__)

SWEEP = "sweep"
CACHE_KEY = "ops:sweep-heartbeat"
STALE_INTERVALS = 3  # the rule: silent for three sweep intervals = stalled


@receiver(hooks.sweep_completed, dispatch_uid="ops-record-sweep")
def record_sweep(sender, result, started, **kwargs) -> None:
    values = {"completed_at": timezone.now(), "duration_ms": round(sum(result.ms.values()), 1),
              "claimed": result.claimed}
    if not Heartbeat.objects.filter(name=SWEEP).update(**values):
        try:
            with transaction.atomic():
                Heartbeat.objects.create(name=SWEEP, **values)
        except IntegrityError:  # a concurrent first sweep created it
            Heartbeat.objects.filter(name=SWEEP).update(**values)
    try:
        cache.delete(CACHE_KEY)
    except Exception:  # noqa: BLE001 - the entry expires within a minute anyway
        log.warning("could not clear the cached sweep heartbeat")


@dataclass(frozen=True)
class TimerStatus:
    last_completed_at: dt.datetime | None
    stale: bool
    age_seconds: float | None
    limit_seconds: int

    def as_dict(self) -> dict:
        return {"last_completed_at": self.last_completed_at.isoformat() if self.last_completed_at else None,
                "stale": self.stale, "age_seconds": None if self.age_seconds is None else round(self.age_seconds),
                "limit_seconds": self.limit_seconds}


def stale_after() -> int:
    return STALE_INTERVALS * settings.DSAR_SWEEP_SECONDS


def _last_completed() -> dict | None:
    """Staff pages ask on every request: cached for a minute (a stall is 3 intervals long), and
    the sweep clears the entry when it completes."""
    try:
        cached = cache.get(CACHE_KEY)
    except Exception:  # noqa: BLE001 - a cache outage costs a query, nothing more
        cached = None
    if cached is not None:
        return cached or None
    beat = Heartbeat.objects.filter(name=SWEEP).values("completed_at").first()
    try:
        cache.set(CACHE_KEY, beat or {}, 60)
    except Exception:  # noqa: BLE001
        pass
    return beat


def sweep_status(now: dt.datetime | None = None) -> TimerStatus:
    now = now or timezone.now()
    beat = _last_completed()
    if beat is None:  # never ran here: stalled from the start, or a deployment seconds old
        return TimerStatus(None, True, None, stale_after())
    age = (now - beat["completed_at"]).total_seconds()
    return TimerStatus(beat["completed_at"], age > stale_after(), age, stale_after())


def alert_if_stale(now: dt.datetime | None = None) -> bool:
    """Queue the one e-mail for the current stall, if the sweep stalled and nobody did yet."""
    status = sweep_status(now)
    if not status.stale or status.last_completed_at is None:
        return False
    with transaction.atomic():
        claimed = (Heartbeat.objects.filter(name=SWEEP, completed_at=status.last_completed_at)
                   .exclude(alerted_for=status.last_completed_at)
                   .update(alerted_for=status.last_completed_at))
        if not claimed:
            return False
        note = outbox.queue_email(
            "timers_stalled", settings.DSAR_TEAM_EMAIL,
            context={"last": status.last_completed_at, "minutes": round(status.age_seconds / 60),
                     "limit_minutes": round(status.limit_seconds / 60), "site_url": settings.SITE_URL},
            dedupe_key=f"timers-stalled:{status.last_completed_at.isoformat()}")
    log.error("the deadline sweep has not completed since %s; team alerted", status.last_completed_at)
    if note is not None:
        # Normally sent by a task on the timers queue, which may be the very thing that is stuck.
        try:
            outbox.deliver(note.pk)
        except Exception:  # noqa: BLE001 - the outbox row stays pending; the flush retries it
            log.exception("sending the stalled-timers alert failed")
    return True
