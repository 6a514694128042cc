"""Real kills at the two other points that matter (tests/test_sweep_kill.py kills inside a batch):
between two batches of a sweep, and during delivery (inside the mail provider's call). PostgreSQL:
the subprocess must reach the test database."""
import collections
import datetime as dt
import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.db import connection

from requests_app import outbox, sweep
from requests_app.models import AlertLevel, Deadline, Event, Notification, NotificationStatus
from tests.fixtures import subprocess_database_url

from .outage_helpers import silent_server
from .test_sweep_reliability import TEAM, listed, overdue_cases

pytestmark = pytest.mark.django_db(transaction=True)
WAIT_SECONDS = 60


@pytest.fixture(autouse=True)
def postgres_only(on_postgres):
    if not on_postgres:
        pytest.skip("needs PostgreSQL: the SQLite test database is in memory, out of a subprocess's reach")


def _wait_for(predicate, what, proc):
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        if proc.poll() is not None:
            pytest.fail(f"the subprocess exited ({proc.returncode}) before {what}:\n"
                        f"{proc.stdout.read().decode(errors='replace')[-4000:]}")
        time.sleep(0.1)
    pytest.fail(f"{what} did not happen within {WAIT_SECONDS} s")


def _start(code: str, app_name: str, **env):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "dsar.settings_test", "DATABASE_URL": subprocess_database_url(),
           "CONN_MAX_AGE": "0", "PGAPPNAME": app_name, **env}
    return subprocess.Popen([sys.executable, "manage.py", "shell", "-c", textwrap.dedent(code)],
                            cwd=settings.BASE_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True)


def _kill(proc, app_name):
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(WAIT_SECONDS)
    proc.stdout.close()
    with connection.cursor() as cursor:  # the killed process's sessions end once their client is gone
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", [app_name])
            if cursor.fetchone()[0] == 0:
                return
            time.sleep(0.1)
        cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
                       [app_name])


def test_it_loses_and_repeats_nothing_when_a_sweep_is_killed_between_two_batches(submit, run, manager, tmp_path):
    cases = overdue_cases(submit, run, manager, 4)
    marker = tmp_path / "first-batch-committed"
    app_name = f"dsar-kill-between-{uuid.uuid4().hex[:8]}"
    # The task's body, as a worker runs it, with batches of two; after the first batch has committed
    # (clocks_alerted is sent after commit) the process stalls, and is killed there.
    proc = _start(f"""
        import pathlib, time
        from requests_app import hooks
        from requests_app.tasks import sweep

        def stall(**kwargs):
            pathlib.Path({str(marker)!r}).write_text("1")
            time.sleep(600)

        hooks.clocks_alerted.connect(stall, weak=False)
        sweep()
    """, app_name, DSAR_SWEEP_BATCH_SIZE="2")
    try:
        _wait_for(marker.exists, "the first batch's commit", proc)
    finally:
        _kill(proc, app_name)
    levels = dict(Deadline.objects.filter(kind="respond").values_list("case_id", "alert_level"))
    assert [levels[c.pk] for c in cases] == [AlertLevel.OVERDUE] * 2 + [AlertLevel.NONE] * 2  # batch 1 only
    first_digests = Notification.objects.filter(kind=sweep.DIGEST_KIND).count()
    assert first_digests >= 1

    # The next sweep does the second batch, and only it.
    mail.outbox.clear()
    result = run(sweep.run_sweep)
    assert result.claimed == 2
    assert set(Deadline.objects.filter(kind="respond").values_list("alert_level", flat=True)) == {AlertLevel.OVERDUE}
    assert collections.Counter(Event.objects.filter(kind="escalated").values_list("case_id", flat=True)) == {
        c.pk: 1 for c in cases}
    assert listed(TEAM) == {c.reference: 1 for c in cases}  # each case in exactly one digest
    assert listed(manager.email) == {c.reference: 1 for c in cases}
    again = run(sweep.run_sweep)
    assert again.claimed == 0 and again.digests == 0


def test_it_sends_once_when_a_worker_is_killed_inside_the_provider_call(monkeypatch):
    monkeypatch.setattr(outbox, "publish", lambda pk: None)  # delivered by the subprocess, below
    note = outbox.queue_email("deadline_alert", "team@example.com", context={"items": [], "total": 0})
    app_name = f"dsar-kill-delivery-{uuid.uuid4().hex[:8]}"
    with silent_server(hang_for=600) as port:
        proc = _start(f"from requests_app import outbox; outbox.deliver({note.pk})", app_name,
                      DJANGO_SETTINGS_MODULE="dsar.settings", ANYMAIL_ESP="",  # the real settings: SMTP
                      EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend", EMAIL_HOST="127.0.0.1",
                      EMAIL_PORT=str(port), EMAIL_TIMEOUT="600")
        try:
            _wait_for(lambda: Notification.objects.get(pk=note.pk).attempts == 1, "the claim", proc)
            # Inside the provider call: the claim is committed and no transaction is open.
            with connection.cursor() as cursor:
                cursor.execute("SELECT state FROM pg_stat_activity WHERE application_name = %s", [app_name])
                states = {row[0] for row in cursor.fetchall()}
            assert "idle in transaction" not in states and "active" not in states, states
        finally:
            _kill(proc, app_name)
    note.refresh_from_db()
    assert note.status == NotificationStatus.PENDING and note.sent_at is None
    assert outbox.due_ids() == []  # the claim holds for the lease: no second sender meanwhile
    with time_machine.travel(note.next_attempt_at + dt.timedelta(seconds=1), tick=False):
        mail.outbox.clear()
        from requests_app import tasks
        assert tasks.flush_outbox()["sent"] == 1
        assert tasks.flush_outbox()["sent"] == 0
    assert len(mail.outbox) == 1 and Notification.objects.get(pk=note.pk).status == NotificationStatus.SENT
