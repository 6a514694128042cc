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
