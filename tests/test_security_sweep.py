"""Concurrent sweeps never all stop with steps left, and a message another worker holds is skipped,
not waited for (PostgreSQL: the locks are its own)."""
import pytest
import time_machine
from django.db import connection

from requests_app import outbox, sweep
from requests_app.models import AlertLevel, Deadline, Notification

from .test_sweep_kill import _lock_connection
from .test_sweep_reliability import NOW, overdue_cases

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def postgres_only(on_postgres):
    if not on_postgres:
        pytest.skip("row and advisory locks are PostgreSQL's; SQLite runs one writer at a time")


def test_it_claims_again_when_its_snapshot_predated_another_sweeps_batch(submit, run, manager, monkeypatch):
    """Four sweeps at once: one whose claim statement took its snapshot just before another sweep's
    batch committed sees only steps already claimed and gets nothing, while steps are left and the
    turn is free. It must claim again, not stop (alerts would wait a sweep)."""
    overdue_cases(submit, run, manager, 4)
    real, calls = sweep.claim_batch, []

    def stale_then_real(th, limit):
        calls.append(limit)
        # What the stale snapshot returned: candidates, of which none could be claimed.
        return ([], True) if len(calls) == 1 else real(th, limit)

    monkeypatch.setattr(sweep, "claim_batch", stale_then_real)
    with time_machine.travel(NOW, tick=False):
        result = run(sweep.run_sweep, now=NOW, batch_size=2)
    assert result.claimed == 4
    assert set(Deadline.objects.filter(kind="respond").values_list("alert_level", flat=True)) == {AlertLevel.OVERDUE}


def test_it_stops_at_once_when_another_sweep_holds_the_turn(submit, run, manager, monkeypatch):
    overdue_cases(submit, run, manager, 2)
    other = _lock_connection()
    try:
        other.execute("SELECT pg_advisory_lock(%s)", [sweep.SWEEP_LOCK_KEY])  # another sweep's batch
        with time_machine.travel(NOW, tick=False):
            assert run(sweep.run_sweep, now=NOW).claimed == 0
    finally:
        other.close()


def test_it_skips_a_message_another_worker_is_sending_instead_of_waiting(db_no_wait):
    note = Notification.objects.create(kind="deadline_alert", to=["a@example.com"], subject="s", body_text="b")
    other = _lock_connection()
    try:
        other.execute(f'SELECT id FROM "{Notification._meta.db_table}" WHERE id = %s FOR UPDATE', [note.pk])
        assert outbox.deliver(note.pk) == "not-pending"  # SKIP LOCKED: no wait (lock_timeout would raise)
    finally:
        other.close()
    assert Notification.objects.get(pk=note.pk).attempts == 0


@pytest.fixture
def db_no_wait():
    with connection.cursor() as cursor:
        cursor.execute("SET lock_timeout = '3s'")
    yield
    with connection.cursor() as cursor:
        cursor.execute("RESET lock_timeout")
