"""A real crash: the sweep task runs in its own process, is SIGKILLed mid-batch (after it claimed
the clocks and escalated the cases, before it commits), and the next sweep finishes the work with
no duplicate and no lost alert (issue 5). tests/test_sweep_reliability.py simulates the same crash
in-process with an exception; this one kills a real process holding a real transaction.

How the sweep is stopped at the right point, with nothing added to production code: the test
holds `LOCK TABLE requests_app_notification IN EXCLUSIVE MODE` on a connection of its own. The
sweep's batch claims and escalates (UPDATE deadline / case, INSERT event), then its digests'
INSERT into the outbox waits for that lock, inside the open transaction. PostgreSQL only: the
SQLite test database lives in memory, out of another process's reach, and has no table locks.
"""
import collections
import datetime as dt
import os
import signal
import subprocess
import sys
import time
import uuid

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.db import connection
from django.utils import timezone

from requests_app import services, sweep
from requests_app.models import AlertLevel, DataSubjectRequest, Deadline, Event, Notification
from tests.fixtures import subprocess_database_url

pytestmark = pytest.mark.django_db(transaction=True)

T0 = dt.datetime(2026, 3, 2, 17, 0, tzinfo=dt.timezone.utc)  # cases received then (a Monday)
WAIT_SECONDS = 30
NOTIFICATIONS = Notification._meta.db_table



def _lock_connection():
    """A plain psycopg connection to the test database, outside Django (its own transaction)."""
    import psycopg

    db = connection.settings_dict
    return psycopg.connect(dbname=db["NAME"], user=db["USER"] or None, password=db.get("PASSWORD") or None,
                           host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432, connect_timeout=10)


def _wait_for(predicate, what: str, proc=None, timeout: float = WAIT_SECONDS):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        if proc is not None and proc.poll() is not None:
            out = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
            pytest.fail(f"the sweep process exited ({proc.returncode}) before {what}:\n{out[-4000:]}")
        time.sleep(0.1)
    pytest.fail(f"{what} did not happen within {timeout:.0f} s")


def _cases(submit, run, manager, analyst):
    """Six CCPA know requests, confirmed and verified (only the respond clock runs): three
    assigned to the analyst, three unassigned (the team address hears of them); in each group one
    clock is overdue, one urgent, one due soon (moved relative to the real clock, which the
    subprocess uses)."""
    cases = []
    with time_machine.travel(T0, tick=False):
        for i in range(6):
            case = submit("US-CA", "access", requester_email=f"k{i}@example.com")
            run(services.confirm_email, case)
            run(services.verify_identity, case, manager, method="account login")
            if i < 3:
                run(services.assign, case, manager, analyst)
            cases.append(DataSubjectRequest.objects.get(pk=case.pk))
    now = timezone.now()
    offsets = [-dt.timedelta(hours=5), dt.timedelta(days=1), dt.timedelta(days=5)]  # overdue, urgent, soon
    for i, case in enumerate(cases):
        assert list(case.deadlines.filter(status="open").values_list("kind", flat=True)) == ["respond"]
        Deadline.objects.filter(case=case, kind="respond").update(due_at=now + offsets[i % 3])
    return cases


def _listed(address):
    """How often each case reference was listed in the digests to `address`, and how many digests."""
    counts, digests = collections.Counter(), 0
    for note in Notification.objects.filter(kind=sweep.DIGEST_KIND):
        if address in note.to:
            digests += 1
            counts.update(w for w in note.body_text.split() if w.startswith("DSAR-"))
    return counts, digests


def _blocked_backend(lock_pid: int, app_name: str):
    """The sweep's backend, if it is waiting for our lock inside a transaction that already wrote
    its claims and escalations: {pid, query, relations it holds}; else None."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT a.pid, a.query, a.backend_xid IS NOT NULL FROM pg_stat_activity a"
            " WHERE a.application_name = %s AND a.state = 'active' AND a.wait_event_type = 'Lock'"
            " AND %s = ANY(pg_blocking_pids(a.pid))", [app_name, lock_pid])
        row = cursor.fetchone()
        if row is None:
            return None
        pid, query, has_xid = row
        cursor.execute(
            "SELECT c.relname, l.mode, l.granted FROM pg_locks l JOIN pg_class c ON c.oid = l.relation"
            " WHERE l.pid = %s AND l.locktype = 'relation' AND c.relkind = 'r'", [pid])
        locks = cursor.fetchall()
        cursor.execute("SELECT count(*) FROM pg_locks WHERE pid = %s AND locktype = 'advisory' AND granted", [pid])
        advisory = cursor.fetchone()[0]
    return {"pid": pid, "query": query, "has_xid": has_xid, "advisory": advisory,
            "held": {(rel, mode) for rel, mode, granted in locks if granted},
            "waiting": {(rel, mode) for rel, mode, granted in locks if not granted}}


def _backend_gone(pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid])
        return cursor.fetchone()[0] == 0


def _end_orphans(app_name: str) -> None:
    """Should the test fail half-way, end the sessions of the sweep process it started (their
    row locks would block the next sweep and the test database's flush)."""
    deadline = time.monotonic() + WAIT_SECONDS
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", [app_name])
            if cursor.fetchone()[0] == 0:
                return
            time.sleep(0.1)
        cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
                       [app_name])


def test_sweep_process_killed_before_commit_leaves_nothing_and_the_next_sweep_alerts_once(
        submit, run, manager, analyst):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: the SQLite test database is in memory, out of the sweep process's reach")
    cases = _cases(submit, run, manager, analyst)
    team = settings.DSAR_TEAM_EMAIL
    app_name = f"dsar-sweep-kill-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "dsar.settings_test", "DATABASE_URL": subprocess_database_url(),
           "CONN_MAX_AGE": "0", "PGAPPNAME": app_name}  # libpq names the sweep's session: we find it by name
    # The Celery task's body, as a worker runs it (tasks.sweep → run_sweep, a fresh run id).
    cmd = [sys.executable, "manage.py", "shell", "-c", "from requests_app.tasks import sweep; sweep()"]

    lock = _lock_connection()
    proc = None
    killed_pid = None
    try:
        lock_pid = lock.info.backend_pid
        lock.execute(f'LOCK TABLE "{NOTIFICATIONS}" IN EXCLUSIVE MODE')  # held until rollback (below)
        proc = subprocess.Popen(cmd, cwd=settings.BASE_DIR, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, start_new_session=True)
        backend = _wait_for(lambda: _blocked_backend(lock_pid, app_name),
                            "the sweep blocking on the outbox lock", proc)
        # Blocked inside its batch: on the digests' INSERT, having claimed (UPDATE deadline), escalated
        # (UPDATE case, INSERT event) and taken the sweeps' turn, all uncommitted.
        assert backend["query"].startswith(f'INSERT INTO "{NOTIFICATIONS}"'), backend["query"]
        assert backend["waiting"] == {(NOTIFICATIONS, "RowExclusiveLock")}
        assert {(Deadline._meta.db_table, "RowExclusiveLock"), (DataSubjectRequest._meta.db_table, "RowExclusiveLock"),
                (Event._meta.db_table, "RowExclusiveLock")} <= backend["held"]
        assert backend["has_xid"] and backend["advisory"] == 1
        killed_pid = backend["pid"]

        os.kill(proc.pid, signal.SIGKILL)  # the worker dies mid-batch
        assert proc.wait(WAIT_SECONDS) == -signal.SIGKILL
        lock.rollback()  # release the table: the orphaned backend finds its client gone and aborts
        _wait_for(lambda: _backend_gone(killed_pid), "the killed sweep's backend ending")
    finally:
        if proc is not None and proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(WAIT_SECONDS)
        if proc is not None and proc.stdout:
            proc.stdout.close()
        lock.close()
        _end_orphans(app_name)

    # Nothing of the killed sweep's work survived.
    assert set(Deadline.objects.filter(kind="respond").values_list("alert_level", flat=True)) == {AlertLevel.NONE}
    assert not Event.objects.filter(kind="escalated").exists()
    assert set(DataSubjectRequest.objects.values_list("escalation_level", flat=True)) == {0}
    assert not Notification.objects.filter(kind=sweep.DIGEST_KIND).exists()

    # The next sweep (beat's next run, or the redelivered task) does all of it, once.
    sent_before = len(mail.outbox)
    result = run(sweep.run_sweep)
    assert result.claimed == 6 and result.batches == 1 and result.escalated_cases == 2
    assert result.by_level == {"due_soon": 2, "urgent": 2, "overdue": 2}
    levels = dict(Deadline.objects.filter(kind="respond").values_list("case_id", "alert_level"))
    expected = [AlertLevel.OVERDUE, AlertLevel.URGENT, AlertLevel.DUE_SOON]
    assert [levels[c.pk] for c in cases] == expected * 2
    escalated = collections.Counter(Event.objects.filter(kind="escalated").values_list("case_id", flat=True))
    assert escalated == {cases[0].pk: 1, cases[3].pk: 1}
    assert dict(DataSubjectRequest.objects.values_list("id", "escalation_level")) == {
        c.pk: (1 if i % 3 == 0 else 0) for i, c in enumerate(cases)}
    # One digest per recipient, each case listed once: the assignee and the team hear of their
    # three, the manager of the two overdue.
    assert _listed(analyst.email) == ({c.reference: 1 for c in cases[:3]}, 1)
    assert _listed(team) == ({c.reference: 1 for c in cases[3:]}, 1)
    assert _listed(manager.email) == ({cases[0].reference: 1, cases[3].reference: 1}, 1)
    assert Notification.objects.filter(kind=sweep.DIGEST_KIND).count() == 3
    assert sorted(m.to[0] for m in mail.outbox[sent_before:]) == sorted([analyst.email, team, manager.email])

    # A third sweep finds nothing left to do.
    again = run(sweep.run_sweep)
    assert again.claimed == 0 and again.digests == 0
    assert Notification.objects.filter(kind=sweep.DIGEST_KIND).count() == 3
    assert Event.objects.filter(kind="escalated").count() == 2
    assert len(mail.outbox) - sent_before == 3
