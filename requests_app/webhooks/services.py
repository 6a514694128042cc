"""Queue and deliver webhooks.

Queueing writes one Delivery row per subscription listening to the event type; the unique
(subscription, event_key) makes a repeated signal a no-op. Delivery claims a row with one
conditional UPDATE (status pending and due → a lease in the future), so two workers never send
the same row at once; then it POSTs the payload, signed per Standard Webhooks, with bounded
connect and read timeouts. A failure schedules the next try with exponential backoff; a process
that dies mid-send leaves the lease to expire and the row is sent again with the same
`webhook-id`, which receivers use to drop duplicates (the convention's at-least-once contract).
"""
from __future__ import annotations

import base64
import datetime as dt
import json
import logging
import secrets
import time
import uuid

import requests
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from requests_app import configaudit

from .models import EVENT_TYPES, Delivery, DeliveryAttempt, DeliveryStatus, Subscription

log = logging.getLogger(__name__)

BACKOFF_BASE_SECONDS = 30  # 30 s, 1, 2, 4 … minutes
BACKOFF_MAX_SECONDS = 3600
RUN_BUDGET_SECONDS = 30  # one delivery run (task or sweep step) stops starting new sends after this


def backoff(attempts: int) -> dt.timedelta:
    return dt.timedelta(seconds=min(BACKOFF_BASE_SECONDS * 2 ** max(attempts - 1, 0), BACKOFF_MAX_SECONDS))


def timeout() -> float:
    return float(settings.WEBHOOK_TIMEOUT_SECONDS)


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


# --- subscriptions (managers) ---------------------------------------------------------------------

def _require_manager(user) -> None:
    if user is not None and not user.has_perm("requests_app.assign_case"):
        raise PermissionDenied("Only a manager may manage webhook subscriptions.")


def _validate(url: str, events: list[str]) -> None:
    errors = {}
    try:
        URLValidator(schemes=["https"] if not settings.DEBUG else ["http", "https"])(url)
    except ValidationError:
        errors["url"] = ["Give an https:// URL." if not settings.DEBUG else "Give an http(s):// URL."]
    unknown = [e for e in events if e not in EVENT_TYPES]
    if not events or unknown:
        errors["events"] = [f"Choose among: {', '.join(EVENT_TYPES)}."]
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def create_subscription(*, name: str, url: str, events: list[str], user=None, secret: str = "") -> Subscription:
    _require_manager(user)
    _validate(url, events)
    sub = Subscription.objects.create(name=name.strip() or url, url=url, events=list(events),
                                      secret=secret or new_secret(), created_by=user)
    # The URL is named, not kept: receivers' URLs often carry a token of their own.
    configaudit.record(sub, "created", user=user, name=sub.name, fields=["name", "url", "events", "secret"],
                       data={"events": list(events)})
    return sub


@transaction.atomic
def set_active(subscription: Subscription, active: bool, user=None) -> Subscription:
    _require_manager(user)
    subscription = Subscription.objects.select_for_update().get(pk=subscription.pk)
    if subscription.active != active:
        subscription.active = active
        subscription.save(update_fields=["active"])
        configaudit.record(subscription, "activated" if active else "deactivated", user=user,
                           name=subscription.name, fields=["active"])
    return subscription


@transaction.atomic
def redeliver(delivery: Delivery, user=None) -> Delivery:
    """Send a given-up delivery again (after the receiver is fixed)."""
    _require_manager(user)
    if Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.FAILED).update(
            status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=timezone.now()):
        configaudit.record(delivery.subscription, "redelivered", user=user, name=delivery.subscription.name,
                           data={"delivery": delivery.msg_id, "event_type": delivery.event_type})
    transaction.on_commit(publish)
    return delivery


# --- queueing -----------------------------------------------------------------------------------

def has_subscribers() -> bool:
    return Subscription.objects.filter(active=True).exists()


def queue(event_type: str, event_key: str, data: dict, *, at: dt.datetime | None = None) -> int:
    return queue_many([(event_type, event_key, data)], at=at)


def queue_many(items: list[tuple[str, str, dict]], *, at: dt.datetime | None = None) -> int:
    """Queue (type, key, data) events for every active subscription to their type, in one query
    for the subscriptions and one insert; returns the rows offered (a repeated key adds none)."""
    subs = list(Subscription.objects.filter(active=True).only("id", "events"))
    at = at or timezone.now()
    rows = [Delivery(subscription=sub, event_key=key, event_type=kind, msg_id=f"msg_{uuid.uuid4().hex}",
                     payload={"type": kind, "timestamp": at.isoformat(), "data": data},
                     next_attempt_at=at, created_at=at)
            for kind, key, data in items for sub in subs if kind in sub.events]
    if rows:
        Delivery.objects.bulk_create(rows, ignore_conflicts=True)
        transaction.on_commit(publish)
    return len(rows)


def publish() -> None:
    from .tasks import deliver_webhooks

    try:
        deliver_webhooks.delay()
    except Exception:  # broker down: the rows stay pending; the deadline sweep's step sends them
        log.warning("broker unavailable; webhook deliveries stay in the outbox", exc_info=True)


# --- delivery -------------------------------------------------------------------------------------

def _claim(delivery_id: int, now: dt.datetime) -> bool:
    lease = now + dt.timedelta(seconds=2 * timeout() + 30)
    return Delivery.objects.filter(pk=delivery_id, status=DeliveryStatus.PENDING, next_attempt_at__lte=now).update(
        next_attempt_at=lease, attempts=F("attempts") + 1) == 1


def sign(secret: str, msg_id: str, at: dt.datetime, body: str) -> dict[str, str]:
    at = at.astimezone(dt.timezone.utc)
    return {"webhook-id": msg_id, "webhook-timestamp": str(int(at.timestamp())),
            "webhook-signature": Webhook(secret).sign(msg_id, at, body), "content-type": "application/json",
            "user-agent": "dsar-webhooks/1"}


def send(delivery: Delivery, now: dt.datetime) -> bool:
    """One HTTP try of a claimed delivery; records it and schedules the next try on failure."""
    sub = delivery.subscription
    body = json.dumps(delivery.payload, separators=(",", ":"), ensure_ascii=False)
    started = time.monotonic()
    code, error = None, ""
    try:
        response = requests.post(sub.url, data=body.encode(), headers=sign(sub.secret, delivery.msg_id, now, body),
                                 timeout=(timeout(), timeout()), allow_redirects=False)
        code = response.status_code
        if not 200 <= code < 300:
            error = f"HTTP {code}: {response.text[:500]}"
    except requests.RequestException as exc:
        error = f"{type(exc).__name__}: {exc}"[:1000]
    ok = not error
    delivery.refresh_from_db(fields=["attempts"])
    DeliveryAttempt.objects.create(delivery=delivery, at=now, status_code=code, error=error,
                                   duration_ms=int((time.monotonic() - started) * 1000))
    update = {"last_status_code": code, "last_error": error}
    if ok:
        update.update(status=DeliveryStatus.DELIVERED, delivered_at=timezone.now())
    elif delivery.attempts >= settings.WEBHOOK_MAX_ATTEMPTS:
        update["status"] = DeliveryStatus.FAILED
        log.error("webhook %s to %s given up after %s attempts: %s", delivery.msg_id, sub.url, delivery.attempts,
                  error)
    else:
        update["next_attempt_at"] = now + backoff(delivery.attempts)
    Delivery.objects.filter(pk=delivery.pk).update(**update)
    return ok


def deliver_due(now: dt.datetime | None = None, *, limit: int = 500) -> dict:
    """Send what is due. A receiver that fails once is skipped for the rest of the run, so a
    down or hanging endpoint costs at most one timeout per run, and the run stops starting new
    sends after RUN_BUDGET_SECONDS."""
    started = time.monotonic()
    now = now or timezone.now()
    result = {"delivered": 0, "failed": 0, "skipped": 0}
    failing: set[int] = set()
    ids = list(Delivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
               .order_by("next_attempt_at", "id").values_list("id", "subscription_id")[:limit])
    for pk, sub_id in ids:
        if sub_id in failing or time.monotonic() - started > RUN_BUDGET_SECONDS:
            result["skipped"] += 1
            continue
        if not _claim(pk, now):
            continue  # another worker has it, or it is no longer due
        delivery = Delivery.objects.select_related("subscription").get(pk=pk)
        if send(delivery, now):
            result["delivered"] += 1
        else:
            result["failed"] += 1
            failing.add(sub_id)
    return result
