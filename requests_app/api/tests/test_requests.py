"""The REST API's resources: requests (create, list, retrieve), the staff actions, the
calculator, the §7102 metrics and the events feed."""
import base64
import datetime as dt

import pytest

from requests_app import services
from requests_app.models import DataSubjectRequest, Event, State

from .helpers import confirmed, key_client

T0 = dt.datetime(2026, 3, 2, 17, 0, tzinfo=dt.timezone.utc)  # Monday 09:00 in California
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_it_files_a_request_through_submit_request_and_records_the_channel(keys, now, mailoutbox,
                                                                           django_capture_on_commit_callbacks):
    now(T0)
    with django_capture_on_commit_callbacks(execute=True):
        response = keys["manager"].post("/api/v1/requests/", {
            "jurisdiction": "US-CA", "request_types": ["access", "deletion"], "requester_name": "Ana Example",
            "requester_email": "ana@example.com", "received_at": "2026-03-01T12:00:00Z"}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert [c["request_type"] for c in body] == ["access", "deletion"]
    assert body[0]["batch_id"] == body[1]["batch_id"] and body[0]["state"] == State.SUBMITTED
    case = DataSubjectRequest.objects.get(pk=body[0]["id"])
    assert case.received_at == dt.datetime(2026, 3, 1, 12, tzinfo=dt.timezone.utc)
    assert case.deadlines.filter(kind="respond").get().due_date == dt.date(2026, 4, 15)  # 45 days
    if hasattr(case, "channel"):
        assert case.channel == "api" and case.recorded_by == keys["manager"].user
    else:
        assert Event.objects.get(case=case, kind="received_via").data == {"channel": "api"}
    confirmations = [m for m in mailoutbox if "ana@example.com" in m.to and "/confirm/" in m.body]
    assert len(confirmations) == 1  # one confirmation link for the batch


def test_it_files_an_agent_request_with_its_authorisation(keys, now):
    now(T0)
    response = keys["analyst"].post("/api/v1/requests/", {
        "jurisdiction": "US-CA", "request_types": ["deletion"], "requester_name": "Ana Example",
        "requester_email": "ana@example.com", "filer": "agent", "agent_name": "Pat Agent",
        "agent_email": "pat@agent.example", "agent_organisation": "Permission Slip",
        "authorisation": {"name": "auth.pdf", "content_base64": base64.b64encode(PDF).decode()}}, format="json")
    assert response.status_code == 201, response.json()
    case = DataSubjectRequest.objects.get(pk=response.json()[0]["id"])
    assert case.filer == "agent" and case.attachments.get().kind == "authorisation"


@pytest.mark.parametrize("body, field", [
    ({"jurisdiction": "ZZ"}, "jurisdiction"),
    ({"request_types": ["teleport"]}, "request_types"),
    ({"filer": "agent"}, "agent_name"),
    ({"requester_email": "not-an-email"}, "requester_email"),
])
def test_it_refuses_bad_submissions_with_json_errors_and_creates_nothing(keys, body, field):
    data = {"jurisdiction": "US-CA", "request_types": ["access"], "requester_name": "Ana",
            "requester_email": "ana@example.com", **body}
    response = keys["manager"].post("/api/v1/requests/", data, format="json")
    assert response.status_code == 400
    error = response.json()
    assert error["code"] == "invalid" and field in error["fields"] and error["message"]
    assert not DataSubjectRequest.objects.exists()


def test_it_refuses_an_oversize_body_before_reading_it(keys, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = keys["manager"].post("/api/v1/requests/", {"jurisdiction": "US-CA", "details": "x" * 2000},
                                    format="json")
    assert response.status_code == 413 and response.json()["code"] == "too_large"
    assert not DataSubjectRequest.objects.exists()


def test_it_answers_invalid_json_with_a_json_error(keys, caplog):
    response = keys["manager"].post("/api/v1/requests/", '{"jurisdiction": ', content_type="application/json")
    assert response.status_code == 400 and response.json()["code"] == "parse_error"
    assert "Bad Request: /api/v1/requests/" in caplog.text  # logged
    assert not DataSubjectRequest.objects.exists()


def test_it_refuses_a_bad_base64_authorisation(keys):
    response = keys["manager"].post("/api/v1/requests/", {
        "jurisdiction": "US-CA", "request_types": ["access"], "requester_name": "Ana",
        "requester_email": "ana@example.com", "filer": "agent", "agent_name": "P", "agent_email": "p@x.example",
        "authorisation": {"name": "a.pdf", "content_base64": "%%%not base64"}}, format="json")
    assert response.status_code == 400 and "base64" in response.json()["message"]
    assert not DataSubjectRequest.objects.exists()


def test_it_lists_like_the_queue_most_urgent_first_in_cursor_pages(keys, now):
    now(T0)
    opt_out = confirmed(request_type="opt_out_sale_sharing")  # 15 business days: most urgent
    de = confirmed("DE")  # one month
    ca = confirmed()  # 45 days
    closed = confirmed()
    services.withdraw(closed, None)
    client = keys["manager"]
    first = client.get("/api/v1/requests/?page_size=2").json()
    assert [r["id"] for r in first["results"]] == [opt_out.pk, de.pk] and first["has_more"]
    second = client.get(f"/api/v1/requests/?page_size=2&cursor={first['next_cursor']}").json()
    assert [r["id"] for r in second["results"]] == [ca.pk] and not second["has_more"]
    assert client.get("/api/v1/requests/?status=closed").json()["results"][0]["id"] == closed.pk
    assert [r["id"] for r in client.get("/api/v1/requests/?status=all").json()["results"]][-1] == closed.pk
    assert [r["id"] for r in client.get("/api/v1/requests/?regime=gdpr").json()["results"]] == [de.pk]
    assert [r["id"] for r in client.get("/api/v1/requests/?due_within=25").json()["results"]] == [opt_out.pk]
    assert client.get("/api/v1/requests/?cursor=bogus").json()["code"] == "invalid_cursor"


def test_it_lists_with_a_constant_number_of_queries(keys, now, django_assert_max_num_queries, manager):
    now(T0)
    client = keys["analyst"]
    for i in range(3):
        services.assign(confirmed(requester_email=f"a{i}@example.com"), manager, client.user)
    with django_assert_max_num_queries(8) as few:
        assert len(client.get("/api/v1/requests/").json()["results"]) == 3
    for i in range(20):
        services.assign(confirmed(requester_email=f"b{i}@example.com"), manager, client.user)
    now(T0 + dt.timedelta(minutes=1))  # past the events feed's settle time
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(client.get("/api/v1/requests/").json()["results"]) == 23
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(client.get("/api/v1/events/?page_size=200").json()["results"]) > 23


def test_it_shows_a_case_with_its_clocks_events_and_letters(keys, now):
    now(T0)
    case = confirmed("DE")
    body = keys["auditor"].get(f"/api/v1/requests/{case.pk}/").json()
    assert body["reference"] == case.reference and body["requester"]["masked"]
    clocks = {c["kind"]: c for c in body["clocks"]}
    assert clocks["respond"]["due_date"] == "2026-04-02" and clocks["respond"]["status"] == "open"
    assert clocks["confirm_email"]["status"] == "met"
    assert [e["kind"] for e in body["events"]][:2] == ["submitted", "clock_started"]
    assert [lt["kind"] for lt in body["letters"]] == ["acknowledgement"] and body["appeals"] == []
    assert keys["auditor"].get("/api/v1/requests/99999999999999999999/").status_code == 404


def test_it_takes_a_case_through_the_staff_actions(keys, now, django_capture_on_commit_callbacks):
    now(T0)
    client = keys["manager"]
    case = confirmed("US-CO", "deletion")
    path = f"/api/v1/requests/{case.pk}/"

    reviewer = key_client("reviewer", "manager")  # an appeal is reviewed by someone else than the decider

    def act(action, body=None, status=200):
        with django_capture_on_commit_callbacks(execute=True):
            response = (reviewer if "appeals/" in action else client).post(path + action + "/", body or {},
                                                                          format="json")
        assert response.status_code == status, response.json()
        return response.json()

    assert act("verify", {"method": "account login", "version": 999}, status=409)["code"] == "conflict"
    version = act("verify", {"method": "account login"})["version"]
    act("request-information", {"what": "clarification", "message": "Which account?", "version": version})
    assert act("receive-reply", {"message": "The shop account"})["state"] == State.IN_PROGRESS
    extended = act("extend", {"reason": "Many systems to search"})
    assert next(c for c in extended["clocks"] if c["kind"] == "respond")["extended"]
    not_now = act("determine", {"admissible": True}, status=409)
    assert not_now["code"] == "not_available" and "In progress" in not_now["message"]
    refused = act("deny", {"reasons": ""}, status=400)
    assert refused["code"] == "invalid" and "reasons" in refused["fields"]
    denied = act("deny", {"reasons": "Exempt", "decision": {"basis": "exempt"}})
    assert denied["state"] == State.DENIED and [lt["kind"] for lt in denied["letters"]][-1] == "denial"
    with_appeal = act("record-appeal", {"statement": "Please reconsider"})
    appeal = with_appeal["appeals"][0]["id"]
    act(f"appeals/{appeal}/start-review")
    decided = act(f"appeals/{appeal}/decide", {"outcome": "upheld", "reasons": "Still exempt"})
    assert decided["appeals"][0]["state"] == "upheld"
    again = act(f"appeals/{appeal}/decide", {"outcome": "reversed", "reasons": "x"}, status=409)
    assert again["code"] == "not_available"
    act("note", {"text": "Closed file"})
    assert Event.objects.filter(case=case, kind="note_added", actor=client.user).exists()


def test_it_refuses_what_the_law_refuses_with_the_services_words(keys, now):
    now(T0)
    case = confirmed("US-CA", "opt_out_sale_sharing")
    services.assign(case, keys["manager"].user, None)
    response = keys["manager"].post(f"/api/v1/requests/{case.pk}/extend/", {"reason": "x"}, format="json")
    assert response.status_code == 409 and response.json()["code"] == "not_available"  # §7026(f): no extension


def test_it_withdraws_and_records_arrival_only_where_the_service_takes_it(keys, now):
    import inspect

    now(T0)
    case = confirmed("DE")
    client = keys["manager"]
    client.post(f"/api/v1/requests/{case.pk}/verify/", {"method": "id"}, format="json")
    client.post(f"/api/v1/requests/{case.pk}/request-information/", {"what": "information", "message": "?"},
                format="json")
    now(T0 + dt.timedelta(hours=1))
    reply = client.post(f"/api/v1/requests/{case.pk}/receive-reply/",
                        {"message": "here", "received_at": "2026-03-02T17:30:00Z"}, format="json")
    if "received_at" in inspect.signature(services.receive_reply).parameters:
        assert reply.status_code == 200
    else:
        assert reply.status_code == 400 and reply.json()["code"] == "unsupported"
        assert DataSubjectRequest.objects.get(pk=case.pk).state == State.AWAITING_REQUESTER
    response = client.post(f"/api/v1/requests/{case.pk}/withdraw/", {"reason": "Asked by phone"}, format="json")
    assert response.status_code == 200 and response.json()["state"] == State.WITHDRAWN


def test_it_computes_clocks_like_the_calculator(keys):
    response = keys["auditor"].get("/api/v1/calculator/?jurisdiction=US-CA&request_type=access&received=2026-03-02")
    assert response.status_code == 200
    respond = response.json()["clocks"]["respond"]
    assert (respond["due"], respond["extended_due"]) == ("2026-04-16", "2026-05-31")
    bad = keys["auditor"].get("/api/v1/calculator/?jurisdiction=US-CA&request_type=teleport&received=2026-03-02")
    assert bad.status_code == 400 and bad.json()["code"] == "invalid" and "teleport" in bad.json()["message"]


def test_it_reports_the_ccpa_metrics(keys, now, manager):
    now(T0)
    case = services.verify_identity(confirmed(), manager, method="account")
    services.fulfil(case, manager, decision={"categories": ["a"], "sources": ["b"], "purposes": ["c"],
                                             "recipients": ["d"]})
    body = keys["auditor"].get("/api/v1/metrics/ccpa/?year=2026").json()
    access = next(r for r in body["rows"] if r["request_type"] == "access")
    assert body["year"] == 2026 and access["received"] == 1 and access["complied_in_whole"] == 1
    assert access["median_days"] == 0


def test_it_feeds_events_since_a_cursor_without_skipping_late_commits(keys, now, settings):
    settings.API_EVENTS_SETTLE_SECONDS = 5
    now(T0)
    client = keys["auditor"]
    case = confirmed("DE")
    assert client.get("/api/v1/events/").json()["results"] == []  # younger than the settle time
    now(T0 + dt.timedelta(seconds=6))
    page = client.get("/api/v1/events/").json()
    assert [e["kind"] for e in page["results"]][:2] == ["submitted", "clock_started"]
    cursor = page["next_cursor"]
    assert client.get(f"/api/v1/events/?cursor={cursor}").json() == {
        "next_cursor": cursor, "has_more": False, "next": None, "results": []}  # nothing new: same cursor
    services.verify_identity(case, keys["manager"].user, method="id")
    now(T0 + dt.timedelta(seconds=12))
    newer = client.get(f"/api/v1/events/?cursor={cursor}").json()["results"]
    assert "verify" in [e["kind"] for e in newer] and newer[0]["case_reference"] == case.reference
