"""Benchmark: server time of one inbound e-mail through the intake webhook (basic auth, anymail's
Postmark parsing, storing the message, its .eml and two attachments, reference threading and
sender checks), against the floor: anymail's own Postmark inbound view whose receiver does the
least any "never lose it" endpoint must do, one INSERT of the raw payload in a transaction.

    .venv/bin/python bench/inbound.py [--quick] [--runs N]

Runs on a throwaway SQLite file (or DATABASE_URL if set) with 1,000 existing cases (5,000 without
--quick) so the thread and duplicate lookups hit real indexes. Jobs run in interleaved rounds.
Target: a stored message costs at most 3x the floor.
"""
from __future__ import annotations

import argparse
import base64
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path[0] = str(Path(__file__).resolve().parent.parent)
TMP = tempfile.mkdtemp(prefix="dsar-bench-inbound-")
os.environ.setdefault("DATABASE_URL", f"sqlite:///{TMP}/bench.sqlite3")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dsar.settings")
os.environ["LOG_LEVEL"] = "WARNING"
SECRET = "postmark:bench-secret"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--quick", action="store_true")
    p.add_argument("--runs", type=int, default=0)
    args = p.parse_args()
    runs = args.runs or (60 if args.quick else 300)
    cases = 1000 if args.quick else 5000

    import django

    django.setup()
    from django.apps import apps
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client
    from django.urls import path

    settings.MIGRATION_MODULES = {app.label: None for app in apps.get_app_configs()}
    settings.MEDIA_ROOT = TMP
    settings.ANYMAIL = {"WEBHOOK_SECRET": SECRET}
    settings.ALLOWED_HOSTS = ["testserver"]
    call_command("migrate", run_syncdb=True, verbosity=0)

    from anymail.signals import inbound
    from anymail.webhooks.postmark import PostmarkInboundWebhookView

    import dsar.urls
    from requests_app.intake import services
    from requests_app.intake.tests.payloads import postmark
    from requests_app.models import DataSubjectRequest

    from django.db import transaction
    from django.utils import timezone

    from requests_app.intake.models import InboundMessage

    def floor_receiver(sender, event, esp_name, **kwargs):
        with transaction.atomic():
            InboundMessage.objects.create(esp="floor", received_at=timezone.now(), raw=json.dumps(event.esp_event))

    dsar.urls.urlpatterns.append(path("bench-floor/", PostmarkInboundWebhookView.as_view()))
    DataSubjectRequest.objects.bulk_create([
        DataSubjectRequest(jurisdiction="DE", regime="gdpr", request_type="access", requester_name="P",
                           requester_email=f"p{i}@example.com", reference=f"DSAR-2026-{i:06d}")
        for i in range(1, cases + 1)])

    client = Client()
    auth = {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(SECRET.encode()).decode()}
    ours, floor = [], []
    for i in range(runs):
        body = json.dumps(postmark(MessageID=f"m{i}", Subject=f"Re: DSAR-2026-{(i % cases) + 1:06d}",
                                   From=f"p{i % cases}@example.com"))
        for job in ((ours, "/intake/inbound/postmark/"), (floor, "/bench-floor/"))[:: 1 if i % 2 else -1]:
            times, url = job
            connected = url != "/bench-floor/"
            if not connected:
                inbound.disconnect(services.on_inbound, dispatch_uid="intake-inbound")
                inbound.connect(floor_receiver, dispatch_uid="bench-floor")
            t = time.perf_counter()
            response = client.post(url, body, content_type="application/json", **auth)
            times.append(time.perf_counter() - t)
            assert response.status_code == 200, response.content[:300]
            if not connected:
                inbound.disconnect(floor_receiver, dispatch_uid="bench-floor")
                inbound.connect(services.on_inbound, dispatch_uid="intake-inbound")
    assert InboundMessage.objects.exclude(esp="floor").count() == runs
    o, f = statistics.median(ours), statistics.median(floor)
    print(f"stored {runs} messages; median ours {o * 1000:.2f} ms, anymail + one raw INSERT {f * 1000:.2f} ms")
    print(f"RESULT inbound {o * 1000:.2f} ms floor {f * 1000:.2f} ms ratio {o / f:.2f} target <=3x")


if __name__ == "__main__":
    main()
