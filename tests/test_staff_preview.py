"""Decisions show their letter before issuing it, and issue only when confirmed (issue 11)."""
import html as htmllib
import re

import pytest
from django.urls import reverse

from requests_app import services
from requests_app.models import DataSubjectRequest, Event, Letter, Notification, State
from tests.fixtures import submit_case as submit


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
    client.force_login(manager)
    case = DataSubjectRequest.objects.get(pk=case.pk)
    r = client.post(reverse("staff:appeal_action", args=[case.pk, appeal.pk, "decide"]), {
        "version": case.version, "appeal_version": appeal.version, "outcome": "upheld",
        "reasons": "The orders are still open.", "preview": "1"})
    assert r.status_code == 200
    srcdoc = htmllib.unescape(re.search(r'srcdoc="([^"]*)"', r.content.decode()).group(1))
    assert "We uphold our original decision." in srcdoc
    appeal.refresh_from_db()
    assert appeal.decided_at is None and not Letter.objects.filter(kind="appeal_decision").exists()
