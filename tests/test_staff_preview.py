"""Decisions show their letter before issuing it, and issue only when confirmed (issue 11)."""
import html as htmllib
import re

import pytest

from django.urls import reverse

from requests_app import services
from requests_app.models import DataSubjectRequest, Event, Letter, Notification, State
from tests.fixtures import make_user, submit_case as submit


def post(client, case, action, **data):
    version = DataSubjectRequest.objects.get(pk=case.pk).version
    return client.post(reverse("staff:case_action", args=[case.pk, action]), {"version": version, **data})


@pytest.fixture
def colorado(manager):
    case = submit("US-CO", "deletion")
    services.confirm_email(case)
    return services.verify_identity(case, manager, method="Account login")


def test_it_previews_the_denial_letter_and_issues_nothing(client, manager, colorado,
                                                          django_capture_on_commit_callbacks):
    client.force_login(manager)
    page = client.get(reverse("staff:case", args=[colorado.pk])).content.decode()
    assert "Preview the letter" in page
    with django_capture_on_commit_callbacks(execute=True) as sent:
        r = post(client, colorado, "deny", reasons="We must keep the order records.", basis="exempt", preview="1")
    assert r.status_code == 200 and not sent
    body = r.content.decode()
    srcdoc = htmllib.unescape(re.search(r'srcdoc="([^"]*)"', body).group(1))
    assert "We must keep the order records." in srcdoc and "C.R.S. 6-1-1304" in srcdoc
    assert "Issue this letter" in body and 'form="form-deny"' in body
    assert 'value="We must keep the order records."' in body or "We must keep the order records.</textarea>" in body
    case = DataSubjectRequest.objects.get(pk=colorado.pk)
    assert case.state == colorado.state and not Letter.objects.filter(kind="denial").exists()
    assert not Event.objects.filter(kind="deny").exists() and not Notification.objects.filter(kind="letter").exists()

    with django_capture_on_commit_callbacks(execute=True):
        r = post(client, colorado, "deny", reasons="We must keep the order records.", basis="exempt")
    assert r.status_code == 302
    assert DataSubjectRequest.objects.get(pk=colorado.pk).state == State.DENIED
    assert Letter.objects.filter(kind="denial").count() == 1


def test_it_previews_an_appeal_decision(client, manager, colorado):
    case = services.deny(colorado, manager, reasons="We must keep the order records.")
    appeal = services.file_appeal(case, statement="I closed my orders")
    client.force_login(make_user("rita", "manager"))  # an independent reviewer (spec section 5)
    case = DataSubjectRequest.objects.get(pk=case.pk)
    r = client.post(reverse("staff:appeal_action", args=[case.pk, appeal.pk, "decide"]), {
        "version": case.version, "appeal_version": appeal.version, "outcome": "upheld",
        "reasons": "The orders are still open.", "preview": "1"})
    assert r.status_code == 200
    srcdoc = htmllib.unescape(re.search(r'srcdoc="([^"]*)"', r.content.decode()).group(1))
    assert "We uphold our original decision." in srcdoc
    appeal.refresh_from_db()
    assert appeal.decided_at is None and not Letter.objects.filter(kind="appeal_decision").exists()


def test_it_reads_access_data_from_csv_and_zip_and_keeps_it_from_preview_to_issue(
        client, manager, django_capture_on_commit_callbacks):
    import io
    import json
    import zipfile

    from django.core.files.uploadedfile import SimpleUploadedFile

    case = submit("DE", "access")
    case = services.verify_identity(services.confirm_email(case), manager, method="Account login")
    client.force_login(manager)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("orders.csv", "number,total\r\n1001,9.90\r\n1002,20.00\r\n")
        z.writestr("profile.json", json.dumps({"name": "Ana"}))
    files = [SimpleUploadedFile("export.zip", archive.getvalue(), "application/zip"),
             SimpleUploadedFile("newsletter.csv", b"list,since\nweekly,2025-01-01\n", "text/csv")]
    r = post(client, case, "fulfil", data_files=files, preview="1")
    assert r.status_code == 200
    body = r.content.decode()
    hidden = htmllib.unescape(re.search(r'name="data_json" value="([^"]*)"', body).group(1))
    assert "The data read from your files (3 categories) is attached" in body
    assert json.loads(hidden) == {"orders": [{"number": "1001", "total": "9.90"}, {"number": "1002", "total": "20.00"}],
                                  "profile": {"name": "Ana"}, "newsletter": [{"list": "weekly", "since": "2025-01-01"}]}
    with django_capture_on_commit_callbacks(execute=True):
        r = post(client, case, "fulfil", data_json=hidden)
    assert r.status_code == 302
    assert Letter.objects.get(kind="fulfilment").context["data"]["profile"] == {"name": "Ana"}
    page = client.get(reverse("staff:case", args=[case.pk])).content.decode()
    assert "<td>profile</td><td>name</td><td>Ana</td>" in page and "{&#x27;" not in page  # a table, not a dict


def test_it_refuses_a_zip_bomb(client, manager):
    import io
    import zipfile

    from django.core.files.uploadedfile import SimpleUploadedFile

    case = submit("DE", "access")
    case = services.verify_identity(services.confirm_email(case), manager, method="Account login")
    client.force_login(manager)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("big.csv", "a\n" + "0\n" * 5_000_000)
    r = post(client, case, "fulfil", data_files=[SimpleUploadedFile("b.zip", archive.getvalue())], preview="1")
    assert r.status_code == 400 and "unpacks to too much data" in r.content.decode()
