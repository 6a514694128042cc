"""The status-callback outbox (§2.03): every change of a DRP request's status object is one
StatusCallback row, queued when the core's audit event is committed and POSTed to the agent's
status_callback until it answers 2xx.

- Never lost: the row is written before any attempt; a failed or unanswered attempt is retried
  with backoff, by the task published on commit and then by the deadline sweep's step.
- Never twice for one change: one row per (request, event) (unique), and an attempt first leases
  the row (next_attempt_at moves past the HTTP timeout) under a row lock, so a concurrent sweep or
  redelivered task skips it. A worker killed after the agent answered but before the row is marked
  sent retries it once more after the lease: at-least-once, and the X-DRP-Callback-Id header lets
  the agent drop that duplicate.
- In order: a request's later change waits while an earlier one is still pending, so an agent
  never hears "fulfilled" before "in_progress".
- Bounded: connect and read timeouts; the answer's body is never read (§2.03.1: discarded).
"""
from __future__ import annotations

import datetime as dt
import json
import logging
from collections import Counter

import requests
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from requests_app import configaudit, hooks

from .models import CallbackStatus, DrpRequest, StatusCallback

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 30  # with the backoff below: about 4 days of an agent being down before we give up
BACKOFF_BASE_SECONDS = 60
BACKOFF_MAX_SECONDS = 6 * 3600
SWEEP_BATCH = 500


def backoff(attempts: int) -> dt.timedelta:
    return dt.timedelta(seconds=min(BACKOFF_BASE_SECONDS * 2 ** max(attempts - 1, 0), BACKOFF_MAX_SECONDS))


def timeouts() -> tuple[float, float]:
    return (getattr(settings, "DRP_CALLBACK_CONNECT_TIMEOUT", 3.0), getattr(settings, "DRP_CALLBACK_READ_TIMEOUT", 10.0))


# What can change a status object (state, awaiting, the response clock): a transition, or a clock
# moved without one. Each commit that changes a status records at least one of these, and the
# status is read after that commit, so the other events (several per action) cost no query.
CLOCK_EVENTS = frozenset({"deadline_extended", "clock_restarted", "clock_resumed", "clock_paused"})


def on_event_recorded(sender, event, **kwargs) -> None:
    """hooks.event_recorded receiver (after commit): queue a callback if the status changed."""
    if event.kind == "submitted" or not (event.to_state or event.kind in CLOCK_EVENTS):
        return  # the agent has the first status from the answer to its POST
    drp_id = DrpRequest.objects.filter(case_id=event.case_id).exclude(status_callback="") \
        .values_list("pk", flat=True).first()
    if drp_id is not None:
        queue_change(drp_id, event.pk)


def queue_change(drp_id: int, event_id: int) -> StatusCallback | None:
    from .services import status_object

    with transaction.atomic():
        drp = DrpRequest.objects.select_for_update().select_related("case").get(pk=drp_id)
        status = status_object(drp)
        if status == drp.last_status:
            return None
        callback, created = StatusCallback.objects.get_or_create(
            drp_request=drp, event_id=event_id, defaults={"url": drp.status_callback, "payload": status})
        if not created:
            return None
        drp.last_status = status
        drp.save(update_fields=["last_status"])
        transaction.on_commit(lambda: publish(callback.pk))
    return callback


def publish(callback_id: int) -> None:
    from .tasks import deliver_callback

    try:
        deliver_callback.delay(callback_id)
    except Exception:  # broker down: the row stays pending and the sweep step sends it later
        log.warning("broker unavailable; DRP callback %s stays in the outbox", callback_id, exc_info=True)


def deliver(callback_id: int) -> str:
    now = timezone.now()
    connect, read = timeouts()
    with transaction.atomic():
        callback = (StatusCallback.objects.select_for_update(skip_locked=True)
                    .filter(pk=callback_id, status=CallbackStatus.PENDING, next_attempt_at__lte=now).first())
        if callback is None:
            return "not-due"
        earlier = (StatusCallback.objects.filter(drp_request_id=callback.drp_request_id,
                                                 status=CallbackStatus.PENDING, pk__lt=callback.pk)
                   .order_by("pk").first())
        if earlier is not None:
            callback.next_attempt_at = max(earlier.next_attempt_at, now)
            callback.save(update_fields=["next_attempt_at"])
            return "waiting-for-earlier"
        callback.attempts += 1
        callback.next_attempt_at = now + dt.timedelta(seconds=connect + read + 30)  # the lease
        callback.save(update_fields=["attempts", "next_attempt_at"])
    code, error = _post(callback, (connect, read))
    callback.response_code = code
    if code is not None and 200 <= code < 300:
        callback.status, callback.sent_at, callback.last_error = CallbackStatus.SENT, timezone.now(), ""
        callback.save(update_fields=["status", "sent_at", "last_error", "response_code"])
        return "sent"
    callback.last_error = (error or f"HTTP {code}")[:2000]
    callback.next_attempt_at = timezone.now() + backoff(callback.attempts)
    if callback.attempts >= MAX_ATTEMPTS:
        callback.status = CallbackStatus.FAILED
        log.error("DRP callback %s to %s gave up after %s attempts: %s", callback.pk, callback.url,
                  callback.attempts, callback.last_error)
    else:
        log.warning("DRP callback %s to %s failed (attempt %s): %s", callback.pk, callback.url, callback.attempts,
                    callback.last_error)
    callback.save(update_fields=["status", "last_error", "response_code", "next_attempt_at"])
    return "failed"


def private_address(url: str) -> str:
    """The non-public address the URL's host resolves to, or "" (an agent's callback must not
    reach our own network: loopback, private, link-local such as cloud metadata, reserved)."""
    import ipaddress
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80),
                                   proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return ""  # unresolvable: the POST itself fails and is retried
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%")[0])
        if not address.is_global:
            return str(address)
    return ""


def _post(callback: StatusCallback, timeout: tuple[float, float]) -> tuple[int | None, str]:
    if not settings.DRP_CALLBACK_ALLOW_PRIVATE:
        blocked = private_address(callback.url)
        if blocked:
            return None, f"refused: the callback's host resolves to a non-public address ({blocked})"
    try:
        response = requests.post(
            callback.url, data=json.dumps(callback.payload), timeout=timeout, stream=True, allow_redirects=False,
            headers={"Content-Type": "application/json", "X-DRP-Callback-Id": str(callback.pk)})
    except requests.RequestException as exc:
        return None, f"{type(exc).__name__}: {exc}"
    response.close()  # the body is not read (§2.03.1)
    return response.status_code, ""


@hooks.sweep_step("drp_status_callbacks")
def retry_due(now) -> dict:
    """Publish every due callback (a task each, so one slow agent never holds up the sweep)."""
    ids = list(StatusCallback.objects.filter(status=CallbackStatus.PENDING, next_attempt_at__lte=now)
               .order_by("next_attempt_at", "pk").values_list("pk", flat=True)[:SWEEP_BATCH])
    for pk in ids:
        publish(pk)
    return {"published": len(ids)}


@transaction.atomic
def retry_failed(agent, user=None) -> int:
    """A manager sends again what was given up (the agent fixed its endpoint): oldest first."""
    ids = list(StatusCallback.objects.filter(drp_request__agent=agent, status=CallbackStatus.FAILED)
               .order_by("pk").values_list("pk", flat=True))
    StatusCallback.objects.filter(pk__in=ids).update(status=CallbackStatus.PENDING, attempts=0,
                                                     next_attempt_at=timezone.now())
    if ids:
        configaudit.record(agent, "callbacks_retried", user=user, data={"callbacks": len(ids)})
    transaction.on_commit(lambda: [publish(pk) for pk in ids])
    return len(ids)


def summary_by_agent() -> dict[int, Counter]:
    from django.db.models import Count

    counts: dict[int, Counter] = {}
    for row in (StatusCallback.objects.values("drp_request__agent_id", "status")
                .annotate(n=Count("pk")).order_by()):
        counts.setdefault(row["drp_request__agent_id"], Counter())[row["status"]] = row["n"]
    return counts
