"""/healthz, /readyz and the timers' dead man's switch."""
import datetime as dt
import threading

import pytest
from django.core import mail
from django.test import override_settings

from requests_app.models import Notification
from requests_app.ops import heartbeat, tasks
from requests_app.ops.models import Heartbeat
from requests_app.sweep import run_sweep
from tests.fixtures import make_user

T0 = dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.timezone.utc)
REFUSED = "redis://127.0.0.1:1/0"




def get_in_thread(client, path, limit=30):
    """Run the request in a thread and give up after `limit` seconds (a hang fails the test)."""
    box = {}
    thread = threading.Thread(target=lambda: box.setdefault("r", client.get(path)), daemon=True)
    thread.start()
    thread.join(limit)
    assert not thread.is_alive(), f"{path} hung"
    return box["r"]


def test_it_answers_healthz_without_touching_anything(db, client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200 and response.content == b"ok\n"
    assert "no-cache" in response["Cache-Control"] or "no-store" in response["Cache-Control"]


def test_it_is_ready_when_database_cache_and_broker_answer(db, client):
    run_sweep()
    response = client.get("/readyz")
    body = response.json()
    assert response.status_code == 200 and body["ready"] is True
    assert {name for name, check in body["checks"].items() if check["ok"]} == {"database", "cache", "broker"}
    assert body["timers"]["ok"] is True and response["X-Timers"] == "ok"


def test_it_is_not_ready_when_the_broker_refuses(db, client):
    with override_settings(CELERY_BROKER_URL=REFUSED):
        response = get_in_thread(client, "/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["broker"]["ok"] is False
    assert response.json()["checks"]["database"]["ok"] is True


def test_it_is_not_ready_and_does_not_hang_when_the_broker_hangs(db, client, hung_server):
    with override_settings(CELERY_BROKER_URL=f"redis://127.0.0.1:{hung_server}/0"):
        response = get_in_thread(client, "/readyz")
    assert response.status_code == 503 and response.json()["checks"]["broker"]["ok"] is False


def test_it_is_not_ready_when_the_cache_is_down(db, client):
    caches = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REFUSED}}
    with override_settings(CACHES=caches):
        from django.core.cache import caches as handler
        handler._settings = handler.settings = caches  # a fresh handler view of the override
        try:
            response = get_in_thread(client, "/readyz")
        finally:
            del handler.settings
    assert response.status_code == 503 and response.json()["checks"]["cache"]["ok"] is False


def test_it_reports_stalled_timers_without_failing_readiness(db, client, now):
    now(T0)
    run_sweep()
    now(T0 + dt.timedelta(seconds=heartbeat.stale_after() - 1))
    assert client.get("/readyz").json()["timers"]["ok"] is True
    now(T0 + dt.timedelta(seconds=heartbeat.stale_after() + 1))
    response = client.get("/readyz")
    assert response.status_code == 200 and response["X-Timers"] == "stale"
    assert response.json()["timers"]["stale"] is True


@override_settings(DSAR_TEAM_EMAIL="team@example.com")
def test_it_alerts_the_team_once_per_stall(db, client, now, django_capture_on_commit_callbacks):
    now(T0)
    run_sweep()
    now(T0 + dt.timedelta(seconds=heartbeat.stale_after() + 60))
    with django_capture_on_commit_callbacks(execute=True):
        client.get("/readyz")
        tasks.watchdog()
        client.get("/readyz")
        assert tasks.watchdog() is False
    alerts = [m for m in mail.outbox if "timers have stopped" in m.subject]
    assert len(alerts) == 1 and alerts[0].to == ["team@example.com"]
    assert Notification.objects.filter(kind="timers_stalled").count() == 1
    # The sweep comes back, then stalls again: a new stall, a new alert.
    run_sweep()
    now(T0 + dt.timedelta(seconds=2 * heartbeat.stale_after() + 120))
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.watchdog() is True
        assert tasks.watchdog() is False
    assert len([m for m in mail.outbox if "timers have stopped" in m.subject]) == 2


def test_it_records_each_completed_sweep(db, now):
    now(T0)
    run_sweep()
    first = Heartbeat.objects.get(name="sweep").completed_at
    now(T0 + dt.timedelta(minutes=5))
    run_sweep()
    beat = Heartbeat.objects.get(name="sweep")
    assert first == T0 and beat.completed_at == T0 + dt.timedelta(minutes=5)
    assert Heartbeat.objects.count() == 1


def test_it_shows_managers_a_banner_when_the_timers_stalled(db, client, now):
    now(T0)
    run_sweep()
    now(T0 + dt.timedelta(hours=1))
    client.force_login(make_user("mia", "manager"))
    assert "deadline timers have stopped" in client.get("/staff/").content.decode()
    client.force_login(make_user("andy", "analyst"))
    assert "deadline timers have stopped" not in client.get("/staff/").content.decode()
    now(T0 + dt.timedelta(hours=1, seconds=1))
    run_sweep()
    client.force_login(make_user("mia2", "manager"))
    assert "deadline timers have stopped" not in client.get("/staff/").content.decode()


def test_it_costs_an_empty_sweep_one_statement(db):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    run_sweep()
    with CaptureQueriesContext(connection) as queries:
        run_sweep()
    assert len([q for q in queries if "ops_heartbeat" in q["sql"]]) == 1


def test_it_starts_the_demo_with_current_timers(db, django_capture_on_commit_callbacks):
    """seed_demo replays months of history; the demo must not open on a 'timers stopped' alarm."""
    import io

    from django.core.management import call_command

    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo", stdout=io.StringIO())
    assert heartbeat.sweep_status().stale is False
    assert not Notification.objects.filter(kind="timers_stalled").exists()
