"""Identity documents are deleted once the identity is verified or the case closed, whichever comes
first; the audit keeps that they were seen, by whom, and when they were deleted (spec section 5)."""
import datetime as dt
from zoneinfo import ZoneInfo

from django.core.files.storage import default_storage
from django.urls import reverse

from requests_app import services
from requests_app.models import Attachment, Awaiting, Event

LONDON = ZoneInfo("Europe/London")
ID_SCAN = services.Upload("passport.png", b"\x89PNG\r\n\x1a\n" + b"0" * 64, "image/png")
AUTH = services.Upload("permission.pdf", b"%PDF-1.4 signed", "application/pdf")


def case_with_id(submit, manager, now, **kw):
    now(dt.datetime(2026, 3, 2, 10, tzinfo=LONDON))
    case = services.confirm_email(submit("GB", "access", **kw))
    services.request_information(case, manager, what=Awaiting.IDENTITY, message="Please send a photo ID")
    services.receive_reply(case, message="Here it is", upload=ID_SCAN)
    case.refresh_from_db()
    return case


def test_it_deletes_the_id_document_once_the_identity_is_verified_and_keeps_the_audit(
        client, submit, manager, now, django_capture_on_commit_callbacks):
    case = case_with_id(submit, manager, now)
    document = case.attachments.get(kind=Attachment.Kind.IDENTITY)
    path = document.file.name
    client.force_login(manager)
    assert client.get(reverse("staff:attachment", args=[document.pk])).status_code == 200  # seen by mia
    now(dt.datetime(2026, 3, 3, 11, tzinfo=LONDON))
    with django_capture_on_commit_callbacks(execute=True):
        services.verify_identity(case, manager, method="Passport checked against the account")
    assert not case.attachments.filter(kind=Attachment.Kind.IDENTITY).exists()
    assert not default_storage.exists(path)
    event = Event.objects.get(case=case, kind="identity_document_deleted")
    assert event.data["sha256"] == document.sha256 and event.data["seen_by"] == ["mia"]
    assert event.created_at == dt.datetime(2026, 3, 3, 11, tzinfo=LONDON)
    assert "verified" in event.reason
    assert Event.objects.filter(case=case, kind="attachment_added", data__attachment=document.pk).exists()


def test_it_deletes_the_id_document_when_the_case_closes_unverified(submit, manager, now,
                                                                     django_capture_on_commit_callbacks):
    case = case_with_id(submit, manager, now)
    path = case.attachments.get(kind=Attachment.Kind.IDENTITY).file.name
    with django_capture_on_commit_callbacks(execute=True):
        services.withdraw(case, reason="No longer needed")
    assert not case.attachments.filter(kind=Attachment.Kind.IDENTITY).exists()
    assert not default_storage.exists(path)
    assert "closed" in Event.objects.get(case=case, kind="identity_document_deleted").reason


def test_it_keeps_an_agents_signed_authorisation(submit, manager, now):
    now(dt.datetime(2026, 3, 2, 10, tzinfo=LONDON))
    case = submit("US-CA", "deletion", filer="agent", agent_name="Helper", agent_email="agent@example.com",
                  authorisation=AUTH, power_of_attorney=True)
    case = services.verify_identity(services.confirm_email(case), manager, method="Power of attorney")
    assert case.attachments.filter(kind=Attachment.Kind.AUTHORISATION).exists()
