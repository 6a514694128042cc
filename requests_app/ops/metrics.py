"""Prometheus metrics. Gauges that describe the database (cases, outbox, sweep) are read at scrape
time by a collector, so every web process reports the same truth; request latency is observed by
the middleware in each process (set PROMETHEUS_MULTIPROC_DIR to aggregate gunicorn workers)."""
from __future__ import annotations

import os
import time

from django.db.models import Count, Min, Q
from django.utils import timezone
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily

from requests_app.models import DataSubjectRequest, Letter, LetterStatus, Notification, NotificationStatus

from .models import Heartbeat

REQUEST_LATENCY = Histogram("dsar_http_request_duration_seconds", "Time to answer an HTTP request",
                            ["method", "status"], buckets=(.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10))


class DatabaseCollector:
    def collect(self):
        now = timezone.now()
        open_cases = GaugeMetricFamily("dsar_cases_open", "Open cases", labels=["regime"])
        overdue = GaugeMetricFamily("dsar_cases_overdue", "Open cases with an expired clock", labels=["regime"])
        rows = (DataSubjectRequest.objects.filter(closed_at__isnull=True).values("regime")
                .annotate(n=Count("id"), late=Count("id", filter=Q(next_due_at__lt=now))).order_by("regime"))
        for row in rows:
            open_cases.add_metric([row["regime"]], row["n"])
            overdue.add_metric([row["regime"]], row["late"])
        yield open_cases
        yield overdue

        pending = Notification.objects.filter(status=NotificationStatus.PENDING).aggregate(
            n=Count("id"), oldest=Min("created_at"))
        yield GaugeMetricFamily("dsar_outbox_pending", "E-mails waiting to be sent", value=pending["n"])
        age = (now - pending["oldest"]).total_seconds() if pending["oldest"] else 0
        yield GaugeMetricFamily("dsar_outbox_oldest_pending_seconds", "Age of the oldest unsent e-mail", value=age)
        yield GaugeMetricFamily("dsar_outbox_failed", "E-mails given up after retries",
                                value=Notification.objects.filter(status=NotificationStatus.FAILED).count())

        beat = Heartbeat.objects.filter(name="sweep").first()
        if beat is not None:
            yield GaugeMetricFamily("dsar_sweep_last_completed_timestamp_seconds",
                                    "When the deadline sweep last completed (alert when it stops moving)",
                                    value=beat.completed_at.timestamp())
            yield GaugeMetricFamily("dsar_sweep_duration_seconds", "Duration of the last sweep",
                                    value=beat.duration_ms / 1000)
            yield GaugeMetricFamily("dsar_sweep_claims", "Clock steps claimed by the last sweep", value=beat.claimed)

        since = now - timezone.timedelta(hours=24)
        recent = Letter.objects.filter(status=LetterStatus.ISSUED, issued_at__gte=since)
        waits = [(issued - created).total_seconds()
                 for created, issued in recent.order_by("-issued_at").values_list("created_at", "issued_at")[:1000]]
        yield GaugeMetricFamily("dsar_letters_issued_24h", "Letters rendered in the last 24 hours",
                                value=recent.count())
        yield GaugeMetricFamily("dsar_letter_render_seconds_max_24h",
                                "Longest time from decision to rendered letter, last 24 hours",
                                value=max(waits, default=0))
        yield GaugeMetricFamily("dsar_letters_pending", "Letters waiting to be rendered",
                                value=Letter.objects.filter(status=LetterStatus.PENDING).count())


def _registry() -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(REQUEST_LATENCY)
    registry.register(DatabaseCollector())
    return registry


def render() -> tuple[bytes, str]:
    return generate_latest(_registry()), CONTENT_TYPE_LATEST


class LatencyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        REQUEST_LATENCY.labels(request.method, f"{response.status_code // 100}xx").observe(
            time.perf_counter() - started)
        return response
