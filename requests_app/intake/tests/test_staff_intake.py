"""Staff record requests received by e-mail, post, phone or in person through the one
submit_request: the clock counts from when it arrived, checked against the calculator."""
import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from requests_app.deadlines import calculate
from requests_app.models import Attachment, DataSubjectRequest, DeadlineStatus, Letter, Notification, State

T0 = dt.datetime(2026, 11, 30, 15, 0, tzinfo=dt.timezone.utc)
NEW = reverse("intake:new")
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

# One jurisdiction per regime, with a request type that regime gives.
REGIMES = [("DE", "access"), ("GB", "erasure"), ("US-CA", "deletion"), ("US-CO", "access"), ("US-CT", "access"),
           ("US-VA", "correction"), ("US-UT", "deletion"), ("US-NV", "opt_out_sale"), ("BR", "access"),
           ("MX", "access"), ("JP", "access")]


def post_data(**over):
    data = {"channel": "post", "jurisdiction": "DE", "received_at": "2026-11-02T09:30", "request_types": ["access"],
            "filer": "self", "requester_name": "Ana Example", "requester_email": "",
            "postal_address": "Hauptstr. 1\n10115 Berlin", "data_description": "My orders",
            "details": "Letter dated 30 October"}
    data.update(over)
    return data


@pytest.mark.parametrize("jurisdiction, rtype", REGIMES)
def test_it_counts_every_regimes_clock_from_the_past_arrival(client, analyst, now, jurisdiction, rtype):
    client.force_login(analyst)
    response = client.post(NEW, post_data(jurisdiction=jurisdiction, request_types=[rtype], channel="phone",
                                          requester_email="ana@example.com", received_at="2026-10-30T23:30"))
    assert response.status_code == 302, response.content.decode()[:3000]
    case = DataSubjectRequest.objects.get()
    zone = ZoneInfo(case.jurisdiction_info.timezone)
    arrived = dt.datetime(2026, 10, 30, 23, 30, tzinfo=zone)  # typed in the requester's zone
    assert case.received_at == arrived
    assert (case.channel, case.recorded_by) == ("phone", analyst)
    expected = calculate(jurisdiction, rtype, arrived)["clocks"]
    started = {d.kind: d for d in case.deadlines.filter(appeal__isnull=True)}
    compared = [name for name in expected if name in started]
    # Every clock that starts on receipt is there (NV's starts on verification, not yet).
    assert compared or jurisdiction == "US-NV"
    for name in compared:
        d = started[name]
        assert (d.start_date, d.due_date, d.due_at) == (expected[name].start, expected[name].due,
                                                        expected[name].due_at), name
    submitted = case.events.get(kind="submitted")
    assert submitted.actor == analyst and submitted.data["channel"] == "phone"
    assert dt.datetime.fromisoformat(submitted.data["received_at"]) == arrived


def test_it_receives_a_posted_request_without_any_email_address(client, manager, now, django_capture_on_commit_callbacks):
    client.force_login(manager)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(NEW, post_data(documents=[SimpleUploadedFile("scan.pdf", PDF)]))
    assert response.status_code == 302
    case = DataSubjectRequest.objects.get()
    # Nothing to confirm: it reached us by post, so it counts at once; nothing is e-mailed.
    assert case.state != State.SUBMITTED and case.requester_email == "" and case.by_post
    assert not Notification.objects.exists()
    assert Letter.objects.filter(case=case, kind="acknowledgement").exists()
    assert not case.deadlines.filter(kind="confirm_email").exists()
    assert case.attachments.filter(kind=Attachment.Kind.STAFF).count() == 1
    page = client.get(reverse("staff:case", args=[case.pk])).content.decode()
    assert "No e-mail address" in page and "Print every letter" in page
    assert "recorded by mia" in page and "Hauptstr. 1" not in page  # masked until revealed
    case.refresh_from_db()
    revealed = client.post(reverse("staff:reveal", args=[case.pk]), {"version": case.version}).content.decode()
    assert "Hauptstr. 1" in revealed


@pytest.mark.parametrize("over, field, message", [
    ({"received_at": "2026-12-01T09:00"}, "received_at", "cannot have arrived in the future"),
    ({"jurisdiction": "XX"}, "jurisdiction", "unknown jurisdiction"),
    ({"request_types": ["opt_out_sale_sharing"]}, None, "does not give the right"),
    ({"channel": "email"}, "requester_email", "has the sender"),
    ({"postal_address": ""}, "postal_address", "give the postal address"),
])
def test_it_refuses_bad_input_and_keeps_what_was_typed(client, analyst, now, over, field, message):
    client.force_login(analyst)
    response = client.post(NEW, post_data(details="Kept text 123", **over))
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html
    assert "Kept text 123" in html and "Ana Example" in html
    assert not DataSubjectRequest.objects.exists()


def test_it_refuses_an_attachment_of_a_refused_type_or_over_the_limit(client, analyst, now, settings):
    client.force_login(analyst)
    response = client.post(NEW, post_data(documents=[SimpleUploadedFile("x.exe", b"MZ\x90\x00" + b"0" * 100)]))
    assert response.status_code == 400 and "not a PDF, PNG or JPEG" in response.content.decode()
    settings.DSAR_UPLOAD_MAX_BYTES = 10
    response = client.post(NEW, post_data(documents=[SimpleUploadedFile("scan.pdf", PDF)]))
    assert response.status_code == 400 and "larger than" in response.content.decode()
    assert not DataSubjectRequest.objects.exists()


def test_it_lets_an_auditor_read_but_not_record(client, auditor):
    client.force_login(auditor)
    assert client.get(NEW).status_code == 403
    assert client.post(NEW, post_data()).status_code == 403
    assert client.get(reverse("intake:inbox")).status_code == 403
    assert not DataSubjectRequest.objects.exists()


def test_it_sends_anonymous_users_to_the_login_page(client, db):
    for url in (NEW, reverse("intake:inbox"), reverse("intake:blocked")):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_it_links_a_duplicate_with_the_open_case_on_both_case_pages(client, analyst, now, submit,
                                                                    django_capture_on_commit_callbacks):
    first = submit("US-CA", "deletion")
    client.force_login(analyst)
    data = post_data(jurisdiction="US-CA", request_types=["deletion"], requester_email="ANA@example.com",
                     channel="email")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(NEW, data)
    assert response.status_code == 302
    second = DataSubjectRequest.objects.exclude(pk=first.pk).get()
    page = client.get(response["Location"]).content.decode()
    assert f"Likely duplicate of {first.reference}" in page
    link = second.events.get(kind="likely_duplicate")
    assert link.data["linked_case"] == first.pk
    assert first.events.get(kind="likely_duplicate").data["linked_case"] == second.pk
    client.force_login(analyst)
    page = client.get(reverse("staff:case", args=[first.pk])).content.decode()
    assert re.search(rf'href="{reverse("staff:case", args=[second.pk])}">{second.reference}<', page)
    # A different request type is not a duplicate.
    with django_capture_on_commit_callbacks(execute=True):
        client.post(NEW, post_data(jurisdiction="US-CA", request_types=["correction"],
                                   requester_email="ana@example.com", channel="email"))
    third = DataSubjectRequest.objects.get(request_type="correction")
    assert not third.events.filter(kind="likely_duplicate").exists()
    assert not Notification.objects.filter(kind="duplicate_notice").exists()  # staff saw it on the page


def test_it_sends_the_email_channel_an_acknowledgement_not_a_confirmation_link(client, analyst, now,
                                                                              django_capture_on_commit_callbacks):
    client.force_login(analyst)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(NEW, post_data(channel="email", requester_email="ana@example.com"))
    case = DataSubjectRequest.objects.get()
    assert case.state == State.VERIFYING and case.email_confirmed_at is None
    assert list(Notification.objects.values_list("kind", flat=True)) == ["acknowledgement"]
    assert case.deadlines.filter(kind="respond", status=DeadlineStatus.OPEN).exists()


def test_an_agent_who_wrote_by_post_needs_no_email_address(client, analyst, now):
    client.force_login(analyst)
    response = client.post(NEW, post_data(jurisdiction="US-CA", request_types=["access"], filer="agent",
                                          agent_name="Bo Agent", agent_organisation="Rights Ltd",
                                          authorisation=SimpleUploadedFile("auth.pdf", PDF)))
    assert response.status_code == 302, response.content.decode()[:2000]
    case = DataSubjectRequest.objects.get()
    assert case.by_post and case.attachments.filter(kind=Attachment.Kind.AUTHORISATION).count() == 1


def test_a_web_duplicate_is_told_by_email_to_the_address_on_file_only(submit, now):
    first = submit("US-CA", "deletion")
    second = submit("US-CA", "deletion", requester_email="Ana@Example.com")
    notice = Notification.objects.get(kind="duplicate_notice")
    assert notice.to == ["Ana@Example.com"] and notice.case == second
    assert first.reference in notice.body_text and "do not need to send it again" in notice.body_text
    submit("US-CA", "deletion")  # a third: one notice per filing
    assert Notification.objects.filter(kind="duplicate_notice").count() == 2
    submit("US-CA", "correction")
    assert Notification.objects.filter(kind="duplicate_notice").count() == 2
