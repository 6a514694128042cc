"""A connector task is done once: a second delivery of the same message is not claimed, and a
worker killed after the target database committed but before our record is taken over once its
lease runs out — the ledger in the target says the erasure is done, so nothing is erased twice
and the result is attached once."""
import datetime as dt
import os
import signal
import subprocess
import sys
import textwrap

import pytest
from django.utils import timezone

from requests_app.connectors import services
from requests_app.connectors.models import Run, RunState, Statement
from requests_app.connectors.sweep_steps import connectors_step
from requests_app.fulfilment.models import Task, TaskFile
from requests_app.models import Event

from .conftest import query

COUNTING = "UPDATE customers SET erasures = erasures + 1 WHERE email = %(email)s"


class WorkerKilled(BaseException):
    """What the process sees of SIGKILL: nothing after this point runs."""


def _counting_erasure(systems):
    """Give the accounts connector a non-idempotent erase statement, so a second run would show."""
    connector = systems[0].connector
    connector.statements.filter(action="erase").delete()
    Statement.objects.create(connector=connector, action="erase", label="counted", sql=COUNTING)
    for other in systems[1:]:
        other.active = False
        other.save()


@pytest.mark.django_db
def test_it_never_erases_twice_when_the_worker_dies_after_the_target_committed(
        shop_systems, shop_url, worked, analyst, manager, run, monkeypatch, time_machine):
    _counting_erasure(shop_systems)
    case = worked(request_type="deletion", requester_email="ana@example.com", assignee=analyst)
    run_ = Run.objects.get(task__case=case)
    run(services.request_erasure, run_, analyst)

    real_finish = services._finish

    def die(*args, **kwargs):
        raise WorkerKilled()
    monkeypatch.setattr(services, "_finish", die)
    with pytest.raises(WorkerKilled):
        run(services.approve_erasure, run_, manager)
    monkeypatch.setattr(services, "_finish", real_finish)

    assert query(shop_url, "SELECT erasures FROM customers WHERE email = %(e)s", {"e": "ana@example.com"}) == [(1,)]
    run_.refresh_from_db()
    assert run_.state == RunState.RUNNING and Task.objects.get(case=case).state == "open"
    # The broker redelivers the message at once: the dead worker's claim still holds.
    assert services.execute(run_.pk) == "not claimed"

    time_machine.move_to(timezone.now() + dt.timedelta(seconds=901), tick=False)
    run(connectors_step, timezone.now())  # the sweep re-queues the orphaned run; the claim takes it over

    assert query(shop_url, "SELECT erasures FROM customers WHERE email = %(e)s", {"e": "ana@example.com"}) == [(1,)]
    task = Task.objects.get(case=case)
    assert (task.state, task.records_affected) == ("done", 1)
    answered = Event.objects.filter(case=case, kind="task_answered")
    assert answered.count() == 1 and answered.get().data["replayed"] is True
    assert services.execute(run_.pk) == "not claimed"  # done is done


@pytest.mark.django_db
def test_it_attaches_a_collect_result_once_when_delivered_twice(shop_systems, worked, run):
    case = worked(requester_email="ana@example.com")
    runs = list(Run.objects.filter(task__case=case))
    for run_ in runs:  # a duplicate delivery after success, and a forced re-queue, change nothing
        assert services.execute(run_.pk) == "not claimed"
        Run.objects.filter(pk=run_.pk).update(state=RunState.QUEUED)
        assert run(services.execute, run_.pk) == "already answered"
    assert TaskFile.objects.filter(task__case=case).count() == len(runs)


@pytest.mark.parametrize("dialect", ["postgresql"])
@pytest.mark.django_db(transaction=True)
def test_it_survives_a_real_sigkill_of_the_worker_mid_erasure(shop_systems, shop_url, worked, analyst, manager,
                                                              run, on_postgres, dialect):
    """A real process, killed with SIGKILL right after the target committed (PostgreSQL suite only:
    the subprocess must see the test database)."""
    if not on_postgres:
        pytest.skip("needs the suite on PostgreSQL (CI) so a subprocess shares the test database")
    from tests.fixtures import subprocess_database_url

    _counting_erasure(shop_systems)
    case = worked(request_type="deletion", requester_email="ana@example.com", assignee=analyst)
    run_ = Run.objects.get(task__case=case)
    services.request_erasure(run_, analyst)
    Run.objects.filter(pk=run_.pk).update(state=RunState.QUEUED, approved_by=manager)
    script = textwrap.dedent(f"""
        import os, signal, django
        django.setup()
        from requests_app.connectors import services
        services._finish = lambda *a, **k: os.kill(os.getpid(), signal.SIGKILL)
        services.execute({run_.pk})
    """)
    env = {**os.environ, "DATABASE_URL": subprocess_database_url(), "DJANGO_SETTINGS_MODULE": "dsar.settings_test",
           "DSAR_CONNECTOR_KEY": ""}
    proc = subprocess.run([sys.executable, "-c", script], env=env, cwd=os.getcwd(), timeout=120)
    assert proc.returncode == -signal.SIGKILL
    assert query(shop_url, "SELECT erasures FROM customers WHERE email = %(e)s", {"e": "ana@example.com"}) == [(1,)]
    Run.objects.filter(pk=run_.pk).update(claimed_at=timezone.now() - dt.timedelta(hours=1))
    assert services.execute(run_.pk) == "done"
    assert query(shop_url, "SELECT erasures FROM customers WHERE email = %(e)s", {"e": "ana@example.com"}) == [(1,)]
    assert Task.objects.get(case=case).records_affected == 1
