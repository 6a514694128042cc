"""A real Celery worker with embedded beat, against this machine's Redis and the test database:
a case whose clock is moved into the past gets its overdue alert e-mail delivered.

Runs on PostgreSQL (CI). Skipped locally on SQLite (pytest-django's SQLite test database lives in
memory, out of the worker's reach) or without REDIS_URL; in CI both are required.
"""
import datetime as dt
import email
import email.policy
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from requests_app import services, sweep
from requests_app.models import DataSubjectRequest, Deadline, Event, Notification, NotificationStatus

from .fixtures import IN_CI, make_user, subprocess_database_url

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

WAIT_SECONDS = 60
TEAM = "it-team@example.com"


def _require(condition: bool, why: str) -> None:
    if condition:
        return
    if IN_CI:
        pytest.fail(f"CI must run the worker integration test: {why}")
    pytest.skip(why)



@pytest.fixture
def redis_url():
    url = os.environ.get("REDIS_URL", "")
    _require(bool(url), "REDIS_URL is not set")
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=3).ping()
    except Exception as exc:  # noqa: BLE001
        _require(False, f"Redis is unreachable at {url}: {exc}")
    return url


@pytest.fixture
def worker(redis_url, tmp_path, transactional_db):
    """`celery -A dsar worker --beat` in its own process group, on a queue of its own."""
    _require(connection.vendor == "postgresql", "needs PostgreSQL (the SQLite test database is in memory)")
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    log_path = tmp_path / "worker.log"
    queue, timers = f"dsar-it-{uuid.uuid4().hex}", f"dsar-it-timers-{uuid.uuid4().hex}"
    mail = f"dsar-it-mail-{uuid.uuid4().hex}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "dsar.settings",
        "DATABASE_URL": subprocess_database_url(),
        "CONN_MAX_AGE": "0",
        "REDIS_URL": redis_url,
        "CELERY_BROKER_URL": redis_url,
        "CELERY_QUEUE": queue,  # runs sharing this Redis never take each other's tasks
        "CELERY_TIMERS_QUEUE": timers,  # the sweep (settings)
        "CELERY_MAIL_QUEUE": mail,  # the outbox flush and e-mail sends
        "DSAR_SWEEP_SECONDS": "2",
        "DSAR_OUTBOX_FLUSH_SECONDS": "5",
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(mail_dir),
        "DSAR_TEAM_EMAIL": TEAM,
        "SITE_URL": "http://dsar.test",
        "ANYMAIL_ESP": "",
        "CELERY_TASK_ALWAYS_EAGER": "false",
    }
    cmd = [sys.executable, "-m", "celery", "-A", "dsar", "worker", "--beat", "-Q", f"{queue},{timers},{mail}",
           "--pool", "solo", "--loglevel", "INFO", "--schedule", str(tmp_path / "celerybeat-schedule"),
           "--hostname", f"it-{uuid.uuid4().hex[:8]}@%h", "--without-gossip", "--without-mingle"]
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, cwd=settings.BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
    try:
        yield proc, mail_dir, log_path
    finally:
        _stop(proc)


def _stop(proc: subprocess.Popen) -> None:
    """Stop the worker and its beat child (same process group, started by this test)."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


def _wait_for(predicate, what: str, proc, log_path: Path, timeout: float = WAIT_SECONDS):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        if proc.poll() is not None:
            break
        time.sleep(0.5)
    pytest.fail(f"{what} did not happen within {timeout:.0f} s (worker exit code {proc.poll()}).\n"
                f"Worker log:\n{log_path.read_text(errors='replace')[-6000:]}")


def test_real_worker_and_beat_deliver_the_overdue_alert(worker):
    proc, mail_dir, log_path = worker
    manager = make_user("it-manager", "manager")
    case = services.submit_request(jurisdiction="US-CA", request_types=["access"], requester_name="Ana Example",
                                   requester_email="ana@example.com")[0]
    services.confirm_email(case)
    _wait_for(lambda: "beat: Starting" in log_path.read_text(errors="replace")
              and "ready." in log_path.read_text(errors="replace"), "worker start-up", proc, log_path)
    assert ".> dsar-it-timers-" in log_path.read_text(errors="replace")  # it consumes the timers queue too

    # Move the clock: the respond deadline expired a minute ago.
    moved = Deadline.objects.filter(case=case, kind="respond").update(
        due_at=timezone.now() - dt.timedelta(minutes=1))
    assert moved == 1

    def delivered():
        """The alert e-mails the filebased backend wrote, parsed: {recipient: (subject, text, html)}."""
        found = {}
        for path in mail_dir.glob("*.log"):
            for chunk in path.read_text(errors="replace").split("-" * 79):
                if not chunk.strip():
                    continue
                msg = email.message_from_string(chunk.strip(), policy=email.policy.default)
                if msg["Subject"] and msg["Subject"].startswith("[DSAR] Deadline alert"):
                    text = msg.get_body(("plain",)).get_content()
                    html = msg.get_body(("html",)).get_content()
                    found[str(msg["To"])] = (str(msg["Subject"]), text, html)
        return found if len(found) >= 2 else None

    alerts = _wait_for(delivered, "delivery of the overdue alert e-mails", proc, log_path)
    assert set(alerts) == {TEAM, manager.email}
    subject, text, html = alerts[TEAM]
    assert subject == "[DSAR] Deadline alert: 1 overdue"
    assert case.reference in text and "Respond" in text and "overdue by" in text
    assert f'<a href="http://dsar.test/staff/cases/{case.pk}/">{case.reference}</a>' in html

    # The worker recorded the delivery and the escalation in the database.
    notes = Notification.objects.filter(kind=sweep.DIGEST_KIND)
    assert notes.count() == 2
    assert all(n.status == NotificationStatus.SENT and n.sent_at and n.attempts == 1 for n in notes)
    case = DataSubjectRequest.objects.get(pk=case.pk)
    assert case.escalation_level == 1 and case.escalated_at is not None
    assert Event.objects.filter(case=case, kind="escalated").count() == 1
    # Beat keeps sweeping every 2 s; nothing is sent twice.
    time.sleep(5)
    assert Notification.objects.filter(kind=sweep.DIGEST_KIND).count() == 2
    assert "requests_app.tasks.sweep" in log_path.read_text(errors="replace")
