"""Two staff members acting on the same case at once cannot both succeed.

The services lock the case row (SELECT … FOR UPDATE) and re-check the state inside the lock; staff
forms also send the version they loaded (optimistic lock). The thread races need real concurrent
transactions, which only PostgreSQL gives (CI runs it); the version checks run everywhere."""
import threading

import pytest
from django.conf import settings
from django.db import connection
from django_fsm import ConcurrentTransition

from requests_app import services
from requests_app.models import DataSubjectRequest, Deadline, Event, State
from requests_app.services import Conflict, ServiceError
from tests.fixtures import make_user

ON_POSTGRES = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
needs_postgres = pytest.mark.skipif(
    not ON_POSTGRES,
    reason="SQLite has no row locks and serialises whole-database writes; the race runs on PostgreSQL (CI)")

KNOW = {"categories": ["Identifiers"], "sources": ["You"], "purposes": ["Orders"], "recipients": ["Couriers"]}


def in_progress_case(manager, request_type="deletion"):
    case = services.submit_request(jurisdiction="US-CA", request_types=[request_type], requester_name="Ana",
                                   requester_email="ana@example.com")[0]
    case = services.confirm_email(case)
    return services.verify_identity(case, manager, method="Account login")


def race(*calls):
    """Run the calls in parallel threads released together; return what each returned or raised."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(i, fn):
        try:
            barrier.wait(timeout=10)
            results[i] = fn()
        except Exception as exc:  # noqa: BLE001 - the outcome is what we check
            results[i] = exc
        finally:
            connection.close()  # each thread has its own connection

    threads = [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a thread hung: lock never released"
    return results


def split(results):
    ok = [r for r in results if not isinstance(r, Exception)]
    failed = [r for r in results if isinstance(r, Exception)]
    return ok, failed


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_two_managers_deciding_the_same_case_at_once():
    mia, max_ = make_user("mia", "manager"), make_user("max", "manager")
    case = in_progress_case(mia)
    copy_a, copy_b = (DataSubjectRequest.objects.get(pk=case.pk) for _ in range(2))  # both load the form
    results = race(lambda: services.fulfil(copy_a, mia),
                   lambda: services.deny(copy_b, max_, reasons="Legal hold on the account"))
    ok, failed = split(results)
    assert len(ok) == 1 and len(failed) == 1, results
    assert isinstance(failed[0], ServiceError) and "cannot" in str(failed[0]) and "while it is" in str(failed[0])
    case.refresh_from_db()
    assert case.state in (State.FULFILLED, State.DENIED)
    decisions = Event.objects.filter(case=case, kind__in=["fulfil", "deny"])
    assert decisions.count() == 1 and decisions.get().to_state == case.state


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_two_managers_extending_the_same_deadline_at_once():
    mia, max_ = make_user("mia", "manager"), make_user("max", "manager")
    case = in_progress_case(mia)
    results = race(lambda: services.extend_deadline(case, mia, reason="Volume"),
                   lambda: services.extend_deadline(case, max_, reason="Complexity"))
    ok, failed = split(results)
    assert len(ok) == 1 and len(failed) == 1, results
    assert isinstance(failed[0], ServiceError) and "already extended" in str(failed[0])
    assert Event.objects.filter(case=case, kind="deadline_extended").count() == 1
    assert Deadline.objects.get(case=case, kind="respond").extended


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_two_forms_loaded_at_the_same_version_only_one_saves():
    mia, max_ = make_user("mia", "manager"), make_user("max", "manager")
    andy = make_user("andy", "analyst")
    case = in_progress_case(mia)
    version = case.version
    results = race(lambda: services.assign(case, mia, andy, expected_version=version),
                   lambda: services.assign(case, max_, mia, expected_version=version))
    ok, failed = split(results)
    assert len(ok) == 1 and len(failed) == 1, results
    assert isinstance(failed[0], Conflict) and "changed by someone else" in str(failed[0])
    assert Event.objects.filter(case=case, kind="assigned").count() == 1


# --- optimistic lock, on every database -------------------------------------------------------------

@pytest.mark.django_db
@pytest.mark.parametrize("action", ["verify", "assign", "extend", "deny", "request_information"])
def test_expected_version_detects_a_concurrent_edit(manager, analyst, action):
    case = services.submit_request(jurisdiction="US-CA", request_types=["deletion"], requester_name="Ana",
                                   requester_email="ana@example.com")[0]
    case = services.confirm_email(case)
    loaded = case.version
    services.add_note(case, manager, "Looked at it")  # notes do not change the version …
    services.assign(case, manager, analyst)  # … but another change does
    calls = {
        "verify": lambda: services.verify_identity(case, manager, method="Login", expected_version=loaded),
        "assign": lambda: services.assign(case, manager, manager, expected_version=loaded),
        "extend": lambda: services.extend_deadline(case, manager, reason="Volume", expected_version=loaded),
        "deny": lambda: services.deny(case, manager, reasons="No", expected_version=loaded),
        "request_information": lambda: services.request_information(
            case, manager, what="information", message="Which account?", expected_version=loaded),
    }
    before = Event.objects.filter(case=case).count()
    with pytest.raises(Conflict, match="was changed by someone else while you were editing"):
        calls[action]()
    case.refresh_from_db()
    assert case.state == State.VERIFYING and case.version == loaded + 1
    assert Event.objects.filter(case=case).count() == before


@pytest.mark.django_db
def test_a_stale_instance_cannot_save_a_transition(manager):
    """The model-level guard (django-fsm ConcurrentTransitionMixin) behind the row lock."""
    case = services.submit_request(jurisdiction="DE", request_types=["access"], requester_name="Ana",
                                   requester_email="ana@example.com")[0]
    first, second = DataSubjectRequest.objects.get(pk=case.pk), DataSubjectRequest.objects.get(pk=case.pk)
    first.confirm_email()
    first.save()
    second.withdraw()
    with pytest.raises(ConcurrentTransition):
        second.save()
