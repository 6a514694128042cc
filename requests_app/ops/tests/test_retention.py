"""Retention: 24 months after closing (11 CCR §7101), the requester's data goes; the record stays."""
import datetime as dt
import io

from django.core.files.storage import default_storage
from django.core.management import call_command
from django.test import override_settings

from requests_app import services
from requests_app.models import Attachment, Event, Letter, LetterStatus, Notification
from requests_app.ops import retention
from requests_app.ops.models import Redaction

T0 = dt.datetime(2024, 3, 4, 10, 0, tzinfo=dt.timezone.utc)
ID_SCAN = services.Upload("passport.png", b"\x89PNG\r\n\x1a\n" + b"0" * 64, "image/png")


def closed_case(submit, run, manager, when):
    """A Californian access request, denied (a letter, an attachment, e-mails) at `when`."""
    case = submit("US-CA", "access", requester_name="Ana Secret", requester_email="ana.secret@example.com",
                  details="my order 12345 from my home address")
    case = run(services.confirm_email, case)
    services.add_attachment(case, Attachment.Kind.STAFF, ID_SCAN, manager)  # ID documents go at verification
    case = run(services.verify_identity, case, manager, method="account login")
    case = run(services.deny, case, manager, reasons="We could not find Ana Secret's account")
    case.refresh_from_db()
    assert case.closed_at is not None
    return case


def test_it_redacts_a_case_closed_more_than_24_months_ago(submit, run, manager, now):
    now(T0)
    case = closed_case(submit, run, manager, T0)
    letters = list(Letter.objects.filter(case=case, status=LetterStatus.ISSUED))
    assert len(letters) == 2  # acknowledgement and denial
    letter = letters[-1]
    letter_file, sha = letter.file.name, letter.sha256
    attachment_file = case.attachments.get().file.name
    assert default_storage.exists(letter_file) and default_storage.exists(attachment_file)
    now(T0 + dt.timedelta(days=731))  # 24 months and a day (2024 is a leap year: 730 days = 2 years)
    assert run(retention.run_retention) == 1
    case.refresh_from_db()
    assert case.requester_name == "[redacted]" and case.requester_email == "" and case.details == ""
    assert case.decision_reasons == "" and case.reference.startswith("DSAR-2024-")
    assert not default_storage.exists(letter_file) and not default_storage.exists(attachment_file)
    letter = Letter.objects.get(pk=letter.pk)
    assert letter.sha256 == sha and not letter.file and letter.context == {"redacted": True}
    everything = " ".join(str(e.data) + e.reason for e in Event.objects.filter(case=case).exclude(kind="redacted"))
    assert "Ana Secret" not in everything and "ana.secret" not in everything
    for note in Notification.objects.filter(case=case):
        assert "Ana" not in note.body_text + note.subject and note.to == []
    # What happened and when stays on the record.
    kinds = list(Event.objects.filter(case=case).values_list("kind", flat=True))
    assert kinds[0] == "submitted" and "redacted" in kinds
    assert Redaction.objects.get(case=case).files_deleted == 3


def test_it_keeps_a_case_inside_the_retention_period(submit, run, manager, now):
    now(T0)
    case = closed_case(submit, run, manager, T0)
    now(T0 + dt.timedelta(days=720))  # not yet 24 months
    assert run(retention.run_retention) == 0
    case.refresh_from_db()
    assert case.requester_name == "Ana Secret"


@override_settings(DSAR_RETENTION_MONTHS=36)
def test_it_lets_a_setting_lengthen_the_period(submit, run, manager, now):
    now(T0)
    closed_case(submit, run, manager, T0)
    now(T0 + dt.timedelta(days=800))
    assert run(retention.run_retention) == 0
    now(T0 + dt.timedelta(days=1100))
    assert run(retention.run_retention) == 1


@override_settings(DSAR_RETENTION_MONTHS=6)
def test_it_never_lets_a_setting_shorten_the_period(submit, run, manager, now):
    now(T0)
    closed_case(submit, run, manager, T0)
    now(T0 + dt.timedelta(days=400))
    assert run(retention.run_retention) == 0


def test_it_redacts_once_however_often_it_runs(submit, run, manager, now):
    now(T0)
    case = closed_case(submit, run, manager, T0)
    now(T0 + dt.timedelta(days=800))
    assert run(retention.run_retention) == 1
    assert run(retention.run_retention) == 0
    assert retention.redact_case(case.pk) is False
    assert Event.objects.filter(case=case, kind="redacted").count() == 1


def test_it_never_touches_an_open_case(submit, now):
    now(T0)
    case = submit("DE")
    now(T0 + dt.timedelta(days=2000))
    assert retention.run_retention() == 0
    case.refresh_from_db()
    assert case.requester_name == "Ana Example"


def test_it_lists_without_changing_on_a_dry_run(submit, run, manager, now):
    now(T0)
    case = closed_case(submit, run, manager, T0)
    now(T0 + dt.timedelta(days=800))
    out = io.StringIO()
    call_command("retention", "--dry-run", stdout=out)
    assert case.reference in out.getvalue() and "1 case(s)" in out.getvalue()
    case.refresh_from_db()
    assert case.requester_name == "Ana Secret" and not Redaction.objects.exists()
    out = io.StringIO()
    call_command("retention", stdout=out)
    assert "redacted 1 case(s)" in out.getvalue()
