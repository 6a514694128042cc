"""The audit trail is append-only and an issued letter is the legal record: the ORM refuses changes."""
import pytest
from django.db import transaction
from django.db.models import ProtectedError

from requests_app import services
from requests_app.models import Event, Letter, LetterStatus


@pytest.fixture
def case(submit):
    return submit("DE", "access")


def test_event_instance_cannot_be_changed_or_deleted(case):
    event = case.events.first()
    event.reason = "rewritten history"
    with pytest.raises(PermissionError, match="append-only"):
        event.save()
    with pytest.raises(PermissionError, match="append-only"):
        event.delete()
    assert Event.objects.get(pk=event.pk).reason == ""


def test_event_queryset_cannot_update_or_delete(case):
    count = Event.objects.count()
    with pytest.raises(PermissionError):
        Event.objects.filter(case=case).update(reason="x")
    with pytest.raises(PermissionError):
        Event.objects.all().delete()
    with pytest.raises(PermissionError):
        case.events.all().delete()
    events = list(case.events.all())
    for e in events:
        e.reason = "x"
    with pytest.raises(PermissionError), transaction.atomic():  # bulk_update opens its own atomic block
        Event.objects.bulk_update(events, ["reason"])
    assert Event.objects.count() == count and not Event.objects.filter(reason="x").exists()


def test_a_case_with_an_audit_trail_cannot_be_deleted(case):
    with pytest.raises(ProtectedError):
        case.delete()


def test_events_record_actor_and_transition(case, manager):
    case = services.confirm_email(case)
    case = services.verify_identity(case, manager, method="Video call")
    event = case.events.get(kind="verify")
    assert (event.actor, event.actor_label, event.from_state, event.to_state, event.reason) == (
        manager, "mia", "verifying", "in_progress", "Video call")
    assert event.created_at is not None


def test_issued_letter_is_immutable(case, manager, run):
    case = run(services.confirm_email, case)
    letter = case.letters.get(kind="acknowledgement")
    assert letter.status == LetterStatus.ISSUED and len(letter.sha256) == 64
    letter.context = {"received_on": "forged"}
    with pytest.raises(PermissionError, match="immutable"):
        letter.save()
    with pytest.raises(PermissionError):
        letter.delete()
    with pytest.raises(PermissionError, match="immutable"):
        Letter.objects.filter(pk=letter.pk).update(sha256="0" * 64)
    with pytest.raises(PermissionError):
        Letter.objects.filter(pk=letter.pk).delete()
    stored = Letter.objects.get(pk=letter.pk)
    assert stored.context != {"received_on": "forged"} and stored.sha256 == letter.sha256
    assert case.events.filter(kind="letter_issued", data__letter=letter.pk).exists()


def test_a_pending_letter_may_still_be_written_by_the_worker(case):
    case = services.confirm_email(case)  # on-commit rendering not run: the letter stays pending
    letter = case.letters.get(kind="acknowledgement")
    assert letter.status == LetterStatus.PENDING
    Letter.objects.filter(pk=letter.pk).update(error="font missing")
    letter.refresh_from_db()
    letter.error = ""
    letter.save()
    with pytest.raises(PermissionError):
        letter.delete()  # but never deleted


# --- the database refuses it too (PostgreSQL triggers, requests_app/audit_guard.py) ---------------

def _raw(sql, params=()):
    from django.db import connection

    with transaction.atomic(), connection.cursor() as cursor:  # a savepoint: the test goes on after an error
        cursor.execute(sql, params)


@pytest.fixture
def pg_only(on_postgres):
    if not on_postgres:
        pytest.skip("the triggers are PostgreSQL's; SQLite has the ORM guard only")


def test_it_refuses_raw_sql_that_rewrites_or_deletes_an_audit_event(case, pg_only):
    from django.db import DatabaseError

    event = case.events.first()
    with pytest.raises(DatabaseError, match="append-only: UPDATE refused"):
        _raw("UPDATE requests_app_event SET reason = 'rewritten history' WHERE id = %s", [event.pk])
    with pytest.raises(DatabaseError, match="append-only: DELETE refused"):
        _raw("DELETE FROM requests_app_event WHERE id = %s", [event.pk])
    assert Event.objects.get(pk=event.pk).reason == event.reason


def test_it_lets_retention_redact_an_events_data_and_reason_and_nothing_else(case, pg_only):
    from django.db import DatabaseError

    from requests_app import audit_guard

    event = case.events.first()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        audit_guard.allow_redaction()
        _raw("UPDATE requests_app_event SET kind = 'forged' WHERE id = %s", [event.pk])
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        audit_guard.allow_redaction()
        _raw("DELETE FROM requests_app_event WHERE id = %s", [event.pk])
    with transaction.atomic():
        audit_guard.allow_redaction()
        _raw("UPDATE requests_app_event SET data = '{}', reason = '' WHERE id = %s", [event.pk])
    assert Event.objects.get(pk=event.pk).kind == event.kind


@pytest.mark.django_db(transaction=True)
def test_it_allows_redaction_for_that_transaction_only(pg_only, submit):
    from django.db import DatabaseError

    from requests_app import audit_guard

    event = submit("DE", "access").events.first()
    with transaction.atomic():  # the outermost transaction, as in retention
        audit_guard.allow_redaction()
        _raw("UPDATE requests_app_event SET reason = 'redacted' WHERE id = %s", [event.pk])
    with pytest.raises(DatabaseError, match="append-only"):
        _raw("UPDATE requests_app_event SET reason = 'again' WHERE id = %s", [event.pk])
    assert Event.objects.get(pk=event.pk).reason == "redacted"


def test_it_refuses_any_change_to_the_configuration_audit(pg_only, manager):
    from django.db import DatabaseError

    from requests_app import audit_guard, configaudit
    from requests_app.models import ConfigChange

    with transaction.atomic():
        configaudit.record(manager, "role_given", user=manager, fields=["groups"])  # any saved object
    entry = ConfigChange.objects.latest("pk")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        audit_guard.allow_redaction()  # retention's exception is for audit events only
        _raw("UPDATE requests_app_configchange SET action = 'x' WHERE id = %s", [entry.pk])
    with pytest.raises(DatabaseError, match="append-only"):
        _raw("DELETE FROM requests_app_configchange WHERE id = %s", [entry.pk])


def test_it_installs_the_triggers_once(db, pg_only):
    from django.db import connection

    from requests_app import audit_guard

    assert audit_guard.apply(connection) == []
    with connection.cursor() as cursor:
        cursor.execute("SELECT tgrelid::regclass::text FROM pg_trigger WHERE tgname LIKE '%%_append_only' ORDER BY 1")
        assert [r[0] for r in cursor.fetchall()] == sorted(audit_guard.GUARDED)
