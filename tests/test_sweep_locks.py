"""The sweep and staff actions on the same cases at the same time, on PostgreSQL: no wait, no deadlock.

Services lock a case row, then write its clocks. The sweep must never wait on a case a service
holds (PostgreSQL would detect the cycle and abort one side, and the staff member would see an
error): it skips that case's clocks, and the next sweep claims them.
"""
import datetime as dt
import threading
import time

import pytest
import time_machine
from django.db import connection, transaction

from requests_app import services, sweep
from requests_app.models import AlertLevel, DataSubjectRequest, Deadline, DeadlineStatus, Event, State

from .test_sweep_reliability import NOW, T0, TEAM, listed, overdue_cases

pytestmark = pytest.mark.django_db(transaction=True)

WAIT = 20  # seconds a thread waits for the other before the test gives up


@pytest.fixture(autouse=True)
def postgres_only(on_postgres):
    if not on_postgres:
        pytest.skip("row locks are PostgreSQL's; SQLite runs one writer at a time")


def lock_timeout(seconds: float) -> None:
    """Inside a transaction: fail instead of waiting longer than this for a row lock."""
    with connection.cursor() as cur:
        cur.execute(f"SET LOCAL lock_timeout = '{int(seconds * 1000)}ms'")


class StaffAction(threading.Thread):
    """A staff action in progress, in its own connection: `action` runs a real service (which
    locks the case), then the transaction stays open until `finish` is set; then it locks the
    case's clocks as a service does next (with a lock timeout, so waiting on the sweep fails
    instead of hanging) and commits."""

    def __init__(self, action):
        super().__init__()
        self.action = action
        self.holding, self.finish, self.done = threading.Event(), threading.Event(), threading.Event()
        self.error = None
        self.waited = None

    def run(self):
        try:
            with transaction.atomic():
                case = self.action()
                self.holding.set()
                assert self.finish.wait(WAIT), "the test never let the staff action finish"
                lock_timeout(3)
                t = time.monotonic()
                list(Deadline.objects.select_for_update().filter(case=case))
                self.waited = time.monotonic() - t
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            self.error = exc
        finally:
            self.holding.set()
            self.done.set()
            connection.close()


def sweep_while_held(staff: StaffAction) -> sweep.SweepResult:
    """Run the sweep while `staff` holds its case; let the staff action finish while the sweep's
    own transaction is still open (the staff action must not wait on the sweep either)."""
    staff.start()
    assert staff.holding.wait(WAIT) and staff.error is None, staff.error
    with time_machine.travel(NOW, tick=False):
        with transaction.atomic():  # holds the sweep's locks until the staff action has finished
            lock_timeout(5)  # a sweep that waited on the staff's case would fail here, not hang
            t = time.monotonic()
            result = sweep.run_sweep(now=NOW)
            took = time.monotonic() - t
            staff.finish.set()
            assert staff.done.wait(WAIT)
    staff.join(WAIT)
    assert staff.error is None, staff.error
    assert staff.waited < 1, f"the staff action waited {staff.waited:.1f} s on the sweep"
    assert took < 3, f"the sweep took {took:.1f} s"
    return result


def test_a_case_a_staff_action_holds_is_skipped_and_alerted_by_the_next_sweep(
        submit, run, manager, analyst):
    cases = overdue_cases(submit, run, manager, 3)
    held = cases[1]
    staff = StaffAction(lambda: services.assign(held, manager, analyst))  # a real service: it locks the case

    result = sweep_while_held(staff)

    # The held case's clock was skipped; the others were claimed, escalated and alerted.
    assert result.claimed == 2 and result.escalated_cases == 2
    levels = dict(Deadline.objects.filter(kind="respond").values_list("case_id", "alert_level"))
    assert [levels[c.pk] for c in cases] == [AlertLevel.OVERDUE, AlertLevel.NONE, AlertLevel.OVERDUE]
    assert listed(TEAM) == {cases[0].reference: 1, cases[2].reference: 1}
    assert DataSubjectRequest.objects.get(pk=held.pk).escalation_level == 0
    assert DataSubjectRequest.objects.get(pk=held.pk).assignee == analyst  # the staff action committed

    # The next sweep, the lock released, claims the skipped one, once.
    with time_machine.travel(NOW, tick=False):
        again = sweep.run_sweep(now=NOW)
        assert sweep.run_sweep(now=NOW).claimed == 0
    assert again.claimed == 1 and again.escalated_cases == 1
    assert listed(analyst.email) == {held.reference: 1}  # its new assignee hears of it
    assert listed(TEAM) == {cases[0].reference: 1, cases[2].reference: 1}
    assert listed(manager.email) == {c.reference: 1 for c in cases}
    assert Event.objects.filter(kind="escalated").count() == 3
    assert set(DataSubjectRequest.objects.values_list("escalation_level", flat=True)) == {1}


def test_an_expired_window_of_a_held_case_waits_for_the_next_sweep(submit, run, manager, analyst):
    with time_machine.travel(T0, tick=False):
        case = submit("US-CA", "deletion", requester_email="late@example.com")  # an opt-out is never unconfirmed
    window = Deadline.objects.get(case=case, kind="confirm_email")
    Deadline.objects.filter(pk=window.pk).update(due_at=NOW - dt.timedelta(hours=1))
    Deadline.objects.filter(case=case).exclude(pk=window.pk).update(due_at=NOW + dt.timedelta(days=30))
    # Closing as not filed runs services.close_not_filed, which locks the case the staff holds.
    staff = StaffAction(lambda: services.assign(case, manager, analyst))

    result = sweep_while_held(staff)

    assert result.claimed == 0 and result.windows_closed == 0
    assert DataSubjectRequest.objects.get(pk=case.pk).state == State.SUBMITTED
    with time_machine.travel(NOW, tick=False):
        again = run(sweep.run_sweep, now=NOW)
    assert again.claimed == 1 and again.windows_closed == 1
    assert DataSubjectRequest.objects.get(pk=case.pk).state == State.NOT_FILED
    assert Deadline.objects.get(pk=window.pk).status == DeadlineStatus.LAPSED


def test_staff_actions_racing_the_sweep_never_fail(submit, run, manager, analyst):
    """Many sweeps and staff actions on the same overdue cases at once: every staff action
    succeeds (no deadlock aborts one), and every case is alerted and escalated exactly once."""
    cases = overdue_cases(submit, run, manager, 12)
    errors, stop = [], threading.Event()

    def staff():
        try:
            for i in range(30):
                case = cases[i % len(cases)]
                with transaction.atomic():
                    services.assign(case, manager, analyst if i % 2 else manager)
                    list(Deadline.objects.select_for_update().filter(case=case))  # then its clocks
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            stop.set()
            connection.close()

    def sweeper():
        try:
            while not stop.is_set():
                sweep.run_sweep(now=NOW, batch_size=2)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=staff), threading.Thread(target=sweeper)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    with time_machine.travel(NOW, tick=False):
        sweep.run_sweep(now=NOW)  # whatever a held case made the racing sweeps skip
    assert set(Deadline.objects.filter(kind="respond").values_list("alert_level", flat=True)) == {3}
    assert Event.objects.filter(kind="escalated").count() == 12
    assert set(DataSubjectRequest.objects.values_list("escalation_level", flat=True)) == {1}
    assert listed(manager.email) == {c.reference: 1 for c in cases}


def test_sweeps_take_turns_without_waiting(submit, run, manager):
    """A sweep that finds another sweep's batch open claims nothing and returns at once; the one
    whose batch it is claims everything, each step once."""
    cases = overdue_cases(submit, run, manager, 4)
    th = sweep.Thresholds.at(NOW)
    results, errors = [], []

    def other_sweep():
        try:
            t = time.monotonic()
            results.append((sweep.run_sweep(now=NOW), time.monotonic() - t))
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    with time_machine.travel(NOW, tick=False), transaction.atomic():
        claims, more = sweep.claim_batch(th, 2)  # a sweep's first batch, still open
        assert [c.case_id for c in claims] == [cases[0].pk, cases[1].pk] and more
        thread = threading.Thread(target=other_sweep)
        thread.start()
        thread.join(WAIT)
    assert not errors, errors
    (other, took), = results
    assert other.claimed == 0 and took < 1
    with time_machine.travel(NOW, tick=False):
        rest = sweep.run_sweep(now=NOW)
    assert rest.claimed == 2  # the two the first batch left; its own two stayed claimed (committed)
    assert set(Deadline.objects.filter(kind="respond").values_list("alert_level", flat=True)) == {3}
