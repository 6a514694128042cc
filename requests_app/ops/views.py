"""Endpoints for load balancers, orchestrators and Prometheus: no personal data, no session."""
from __future__ import annotations

import hmac
import logging

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from . import health, heartbeat, metrics

log = logging.getLogger(__name__)


@never_cache
@require_GET
def healthz(request):
    """The process is alive and serving: touches nothing else, so it is always cheap."""
    return HttpResponse("ok\n", content_type="text/plain")


@never_cache
@require_GET
def readyz(request):
    """Ready to serve: database, cache and broker reachable (503 otherwise). The timers' state is
    reported too (and alerts once when stalled) but does not fail readiness: taking every web
    process out of the load balancer because beat stopped would also stop people filing requests."""
    checks = health.run_checks()
    ready = all(c["ok"] for c in checks.values())
    timers = {"ok": True}
    if checks["database"]["ok"]:
        status = heartbeat.sweep_status()
        timers = {"ok": not status.stale, **status.as_dict()}
        if status.stale:
            heartbeat.alert_if_stale()
    response = JsonResponse({"ready": ready, "checks": checks, "timers": timers}, status=200 if ready else 503)
    response["X-Timers"] = "ok" if timers["ok"] else "stale"
    return response


@never_cache
@require_GET
def prometheus(request):
    token = settings.METRICS_TOKEN
    if not token:
        return HttpResponse(status=404)
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if not hmac.compare_digest(given.encode(), token.encode()):
        log.warning("metrics scrape refused: bad or missing token")
        return HttpResponse("a valid bearer token is required\n", status=401, content_type="text/plain",
                            headers={"WWW-Authenticate": 'Bearer realm="metrics"'})
    body, content_type = metrics.render()
    return HttpResponse(body, content_type=content_type)
