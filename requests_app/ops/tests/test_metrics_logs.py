"""/metrics behind its token, start-up checks, and request ids in logs and tasks."""
import datetime as dt
import logging

import pytest
from django.core import checks
from django.test import override_settings

from requests_app import services
from requests_app.ops import logs
from requests_app.sweep import run_sweep

TOKEN = "t" * 40
T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.timezone.utc)


def scrape(client, token=TOKEN):
    return client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}")


@override_settings(METRICS_TOKEN="")
def test_it_hides_metrics_when_no_token_is_configured(db, client):
    assert client.get("/metrics").status_code == 404


@override_settings(METRICS_TOKEN=TOKEN)
def test_it_refuses_a_scrape_without_the_token(db, client):
    assert client.get("/metrics").status_code == 401
    assert scrape(client, "x" * 40).status_code == 401


@override_settings(METRICS_TOKEN=TOKEN)
def test_it_counts_open_and_overdue_cases_by_regime(submit, client, now):
    now(T0)
    submit("DE")
    submit("US-CA")
    submit("US-CA", "deletion")
    run_sweep()
    text = scrape(client).content.decode()
    assert 'dsar_cases_open{regime="gdpr"} 1.0' in text
    assert 'dsar_cases_open{regime="ccpa"} 2.0' in text
    assert 'dsar_cases_overdue{regime="ccpa"} 0.0' in text
    assert "dsar_sweep_last_completed_timestamp_seconds" in text
    assert "dsar_outbox_pending" in text and "dsar_http_request_duration_seconds_bucket" in text
    now(T0 + dt.timedelta(days=400))  # every clock expired
    text = scrape(client).content.decode()
    assert 'dsar_cases_overdue{regime="ccpa"} 2.0' in text


@override_settings(METRICS_TOKEN=TOKEN)
def test_it_reports_the_age_of_the_oldest_unsent_email(submit, client, now, django_capture_on_commit_callbacks):
    now(T0)
    with django_capture_on_commit_callbacks(execute=False):  # the send task never runs: all pending
        services.submit_request(jurisdiction="DE", request_types=["access"], requester_name="Ana",
                                requester_email="ana@example.com")
    now(T0 + dt.timedelta(minutes=30))
    text = scrape(client).content.decode()
    assert "dsar_outbox_oldest_pending_seconds 1800.0" in text


def _errors(**settings):
    with override_settings(**settings):
        return [m.id for m in checks.run_checks(include_deployment_checks=True) if m.level >= checks.ERROR]


def test_it_refuses_to_start_in_production_without_a_metrics_token():
    assert "ops.E001" in _errors(METRICS_REQUIRED=True, METRICS_TOKEN="")
    assert "ops.E001" in _errors(METRICS_REQUIRED=True, METRICS_TOKEN="short")
    assert "ops.E001" not in _errors(METRICS_REQUIRED=True, METRICS_TOKEN=TOKEN)
    assert "ops.E001" not in _errors(METRICS_REQUIRED=False, METRICS_TOKEN="")


def test_it_refuses_a_retention_period_shorter_than_the_law():
    assert "ops.E002" in _errors(DSAR_RETENTION_MONTHS=12)
    assert "ops.E002" not in _errors(DSAR_RETENTION_MONTHS=36)


def test_it_gives_every_response_a_request_id(db, client):
    first = client.get("/healthz")["X-Request-ID"]
    second = client.get("/healthz")["X-Request-ID"]
    assert len(first) == 32 and first != second
    assert client.get("/healthz", HTTP_X_REQUEST_ID="lb-1234abcd")["X-Request-ID"] == "lb-1234abcd"
    forged = client.get("/healthz", HTTP_X_REQUEST_ID="x\nlevel=ERROR fake")["X-Request-ID"]
    assert "\n" not in forged and "fake" not in forged


def test_it_puts_the_request_id_on_log_records_and_task_headers(db, client, caplog):
    seen = {}

    def view_logs(sender, headers=None, **kw):
        seen.update(headers or {})

    from celery.signals import before_task_publish
    before_task_publish.connect(view_logs)
    caplog.handler.addFilter(logs.RequestIdFilter())
    try:
        token = logs.request_id.set("req-abcdef12")
        try:
            logging.getLogger("requests_app.test").warning("inside a request")
            from dsar.celery import app
            app.send_task("requests_app.tasks.sweep")  # the test broker is in memory
        finally:
            logs.request_id.reset(token)
    finally:
        before_task_publish.disconnect(view_logs)
    assert caplog.records[-1].request_id == "req-abcdef12"
    assert seen.get("request_id") == "req-abcdef12"


def test_it_restores_the_request_id_inside_the_task(db):
    from celery import current_app

    task = current_app.tasks["requests_app.tasks.sweep"]
    task.push_request(id="t-1", request_id="req-abcdef12")
    try:
        logs._enter_task(task_id="t-1", task=task)
        assert logs.request_id.get() == "req-abcdef12"
        logs._leave_task(task_id="t-1")
        assert logs.request_id.get() == "-"
    finally:
        task.pop_request()


def test_it_formats_production_logs_as_json(capsys):
    import json

    from pythonjsonlogger.json import JsonFormatter

    handler = logging.StreamHandler()
    handler.addFilter(logs.RequestIdFilter())
    handler.setFormatter(JsonFormatter("%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s"))
    logger = logging.getLogger("requests_app.jsontest")
    logger.addHandler(handler)
    token = logs.request_id.set("req-abcdef12")
    try:
        logger.warning("case filed")
    finally:
        logs.request_id.reset(token)
        logger.removeHandler(handler)
    line = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert line["request_id"] == "req-abcdef12" and line["message"] == "case filed"
