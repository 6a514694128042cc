"""The sweep under crashes and concurrency: no duplicate and no lost alert."""
import collections
import datetime as dt
import threading
from unittest import mock

import pytest
import time_machine
from django.core import mail
from django.db import connection

from requests_app import services, sweep, tasks
from requests_app.models import AlertLevel, DataSubjectRequest, Deadline, Event, Notification

UTC = dt.timezone.utc
T0 = dt.datetime(2026, 3, 2, 17, 0, tzinfo=UTC)
NOW = dt.datetime(2026, 3, 20, 12, 0, tzinfo=UTC)
TEAM = "privacy-team@example.com"


class WorkerKilled(BaseException):
    """Stands for SIGKILL: not an Exception, so nothing in our code may swallow it."""


def overdue_cases(submit, run, manager, n):
    """n unassigned, confirmed and verified CCPA know requests whose respond clocks expired in
    turn (distinct due times, so batches are deterministic)."""
    cases = []
    with time_machine.travel(T0, tick=False):
        for i in range(n):
            case = submit("US-CA", "access", requester_email=f"r{i}@example.com")
            run(services.confirm_email, case)
            run(services.verify_identity, case, manager, method="account login")
            cases.append(case)
    for i, case in enumerate(cases):
        Deadline.objects.filter(case=case, kind="respond").update(due_at=NOW - dt.timedelta(hours=n - i))
    return cases


def listed(address):
    """How often each case reference was listed in the digests to `address`."""
    counts = collections.Counter()
    for note in Notification.objects.filter(kind=sweep.DIGEST_KIND):
        if address in note.to:
            counts.update(w for w in note.body_text.split() if w.startswith("DSAR-"))
    return counts


@pytest.mark.django_db(transaction=True)
def test_worker_killed_mid_sweep_the_next_sweep_finishes_with_no_duplicate_and_no_lost_alert(
        submit, run, manager):
    cases = overdue_cases(submit, run, manager, 5)
    real = sweep.queue_digests
    calls = []

    def killed_in_second_batch(*args, **kwargs):
        calls.append(1)
        queued = real(*args, **kwargs)  # the batch's claims, escalations and digests are written…
        if len(calls) == 2:
            raise WorkerKilled  # …and the worker dies before the batch commits
        return queued

    sent_before = len(mail.outbox)
    with time_machine.travel(NOW, tick=False):
        with mock.patch.object(sweep, "queue_digests", killed_in_second_batch), pytest.raises(WorkerKilled):
            sweep.run_sweep(batch_size=2)
        # Batch 1 committed whole; batch 2 left no trace: no claim, no escalation, no e-mail.
        levels = dict(Deadline.objects.filter(kind="respond").values_list("case_id", "alert_level"))
        assert [levels[c.pk] for c in cases] == [3, 3, 0, 0, 0]
        assert Event.objects.filter(kind="escalated").count() == 2
        assert sorted(DataSubjectRequest.objects.values_list("escalation_level", flat=True)) == [0, 0, 0, 1, 1]
        assert listed(TEAM) == {cases[0].reference: 1, cases[1].reference: 1}
        assert len(mail.outbox) - sent_before == 2  # batch 1's digests (team, manager) went out on commit

        result = sweep.run_sweep(batch_size=2)  # the task is redelivered (acks_late) or beat runs it again
        assert result.claimed == 3 and result.batches == 2
        assert sweep.run_sweep(batch_size=2).claimed == 0

    every_case_once = {c.reference: 1 for c in cases}
    assert listed(TEAM) == every_case_once
    assert listed(manager.email) == every_case_once
    assert Event.objects.filter(kind="escalated").count() == 5
    assert set(DataSubjectRequest.objects.values_list("escalation_level", flat=True)) == {1}
    assert all(n.status == "sent" for n in Notification.objects.filter(kind=sweep.DIGEST_KIND))


@pytest.mark.django_db(transaction=True)
def test_two_workers_sweeping_at_once_alert_each_step_once(submit, run, manager, on_postgres):
    if not on_postgres:
        pytest.skip("SQLite serialises writers; concurrency is checked on PostgreSQL (CI)")
    cases = overdue_cases(submit, run, manager, 24)
    # Half of them are urgent instead of overdue: two levels in flight.
    for case in cases[::2]:
        Deadline.objects.filter(case=case, kind="respond").update(due_at=NOW + dt.timedelta(hours=5))
    start = threading.Barrier(3)
    results, errors = [], []

    def worker():
        try:
            start.wait()
            for _ in range(3):
                results.append(sweep.run_sweep(now=NOW, batch_size=3))
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert sum(r.claimed for r in results) == 24
    assert sum(r.escalated_cases for r in results) == 12
    assert listed(TEAM) == {c.reference: 1 for c in cases}
    assert listed(manager.email) == {c.reference: 1 for c in cases[1::2]}
    assert Event.objects.filter(kind="escalated").count() == 12
    levels = collections.Counter(Deadline.objects.filter(kind="respond").values_list("alert_level", flat=True))
    assert levels == {AlertLevel.OVERDUE: 12, AlertLevel.URGENT: 12}


def test_the_celery_task_is_acked_late_and_idempotent(submit, run, manager):
    overdue_cases(submit, run, manager, 2)
    assert tasks.sweep.acks_late and tasks.flush_outbox.acks_late and tasks.send_notification.acks_late
    with time_machine.travel(NOW, tick=False):
        first = run(tasks.sweep.delay).get()
        again = run(tasks.sweep.delay).get()
    assert first["claimed"] == 2 and first["escalated_cases"] == 2 and first["digests"] == 2
    assert again["claimed"] == 0
    assert listed(TEAM) == {c.reference: 1 for c in DataSubjectRequest.objects.all()}
