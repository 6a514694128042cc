"""Appeals (spec section 5): decided by someone who took no part in the decision; a reversal
reopens the request with an obligation due by the appeal's own deadline; in cpa, ctdpa and vcdpa
closing a request as not filed is a refusal whose letter explains the appeal and opens its window."""
import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from requests_app import letters, selectors, services
from requests_app.models import AppealState, DataSubjectRequest, Letter, State
from tests.fixtures import make_user

DENVER = ZoneInfo("America/Denver")
pytestmark = pytest.mark.django_db


@pytest.fixture
def deputy(db):
    return make_user("dora", "manager")


def denied(manager, now, jurisdiction="US-CO"):
    now(dt.datetime(2026, 3, 2, 10, tzinfo=DENVER))
    case = services.submit_request(jurisdiction=jurisdiction, request_types=["deletion"], requester_name="Ana",
                                   requester_email="ana@example.com")[0]
    services.confirm_email(case)
    services.assign(case, manager, manager)
    services.verify_identity(case, manager, method="account login")
    return services.deny(case, manager, reasons="We must keep the order records (tax law).")


def test_it_refuses_the_appeal_to_the_manager_who_decided_the_request(manager, deputy, now):
    appeal = services.file_appeal(denied(manager, now), statement="Delete the marketing data at least")
    with pytest.raises(PermissionDenied, match="took part"):
        services.start_appeal_review(appeal, manager)
    with pytest.raises(PermissionDenied, match="took part"):
        services.decide_appeal(appeal, manager, outcome="upheld", reasons="Correct")
    appeal.refresh_from_db()
    assert appeal.state == AppealState.RECEIVED
    services.decide_appeal(appeal, deputy, outcome="upheld", reasons="The records must be kept")


def test_it_refuses_the_appeal_to_the_cases_assignee(manager, deputy, analyst, now):
    case = denied(manager, now)
    services.assign(case, manager, deputy)  # reassigned after the decision
    appeal = services.file_appeal(case, statement="Please reconsider")
    with pytest.raises(PermissionDenied, match="took part"):
        services.decide_appeal(appeal, deputy, outcome="upheld", reasons="Correct")


def test_it_never_offers_or_assigns_the_appeal_to_the_decider(client, manager, deputy, now):
    case = denied(manager, now)
    appeal = services.file_appeal(case, statement="Please reconsider")
    from requests_app.views.staff import appeal_actions

    appeal = type(appeal).objects.select_related("case").get(pk=appeal.pk)
    assert appeal_actions(appeal, manager) == []
    assert "decide" in appeal_actions(appeal, deputy)
    mine = selectors.decorate(selectors.QueueList(manager, selectors.QueueFilters(mine=True))[0:50])
    assert [r.is_appeal for r in mine] == []  # the decider's "my cases" never holds the appeal
    everything = selectors.decorate(selectors.QueueList(deputy, selectors.QueueFilters())[0:50])
    assert [(r.assignee_id, r.assignee_name) for r in everything if r.is_appeal] == [(None, "")]


@pytest.mark.parametrize("outcome", ["reversed", "partially_reversed"])
def test_it_reopens_a_reversed_request_with_an_obligation_due_by_the_appeals_deadline(
        manager, deputy, now, outcome, django_capture_on_commit_callbacks):
    case = denied(manager, now)
    now(dt.datetime(2026, 3, 10, 10, tzinfo=DENVER))
    appeal = services.file_appeal(case, statement="Delete the marketing data at least")
    appeal_due = case.deadlines.get(kind="appeal_respond").due_date
    assert appeal_due == dt.date(2026, 4, 24)
    now(dt.datetime(2026, 3, 20, 10, tzinfo=DENVER))
    services.decide_appeal(appeal, deputy, outcome=outcome, reasons="The marketing data is not needed")
    case = DataSubjectRequest.objects.get(pk=case.pk)
    assert case.state == State.IN_PROGRESS and case.closed_at is None
    action = case.deadlines.get(kind="appeal_action")
    assert action.is_obligation and action.status == "open" and action.due_date == appeal_due
    assert case.next_due_kind == "appeal_action" and case.next_due_at == action.due_at
    assert DataSubjectRequest.objects.filter(pk=case.pk, closed_at__isnull=True).exists()  # in the queue
    now(dt.datetime(2026, 4, 1, 10, tzinfo=DENVER))
    services.fulfil(case, manager, decision={"actions": ["Deleted the marketing data"]})
    case.refresh_from_db()
    assert case.state == State.FULFILLED and case.closed_at is not None
    assert case.deadlines.get(kind="appeal_action").status == "met"
    assert case.letters.filter(kind=letters.FULFILMENT).count() == 1
    assert not case.deadlines.filter(kind="appeal_window", status="open").exists()


@pytest.mark.parametrize("jurisdiction", ["US-CO", "US-CT", "US-VA"])
def test_it_treats_not_filed_as_a_refusal_with_an_appeal_window(now, jurisdiction):
    now(dt.datetime(2026, 3, 2, 10, tzinfo=DENVER))
    case = services.submit_request(jurisdiction=jurisdiction, request_types=["access"], requester_name="Ana",
                                   requester_email="ana@example.com")[0]
    now(dt.datetime(2026, 3, 20, 10, tzinfo=DENVER))
    services.close_not_filed(case, reason="The e-mail address was never confirmed")
    case.refresh_from_db()
    window = case.deadlines.get(kind="appeal_window")
    assert window.status == "open" and window.due_date == dt.date(2026, 5, 4)
    letter = Letter.objects.get(case=case, kind=letters.NOT_FILED)
    assert letters.is_refusal(letter)
    assert letter.context["appeal_window_due"] == "2026-05-04"
    appeal = services.file_appeal(case, statement="I never received the e-mail")
    assert appeal.case_id == case.pk


def test_it_explains_the_appeal_in_the_not_filed_letter(client, now):
    now(dt.datetime(2026, 3, 2, 10, tzinfo=DENVER))
    case = services.submit_request(jurisdiction="US-CO", request_types=["access"], requester_name="Ana",
                                   requester_email="ana@example.com")[0]
    services.close_not_filed(case, reason="The e-mail address was never confirmed")
    letter = Letter.objects.get(case=case, kind=letters.NOT_FILED)
    text = letters.render_html(letter)
    assert "You may appeal this decision" in text and "45 days" in text


def test_it_does_not_open_an_appeal_window_when_not_filed_elsewhere(now):
    now(dt.datetime(2026, 3, 2, 10, tzinfo=DENVER))
    case = services.submit_request(jurisdiction="US-CA", request_types=["access"], requester_name="Ana",
                                   requester_email="ana@example.com")[0]
    services.close_not_filed(case, reason="Never confirmed")
    assert not case.deadlines.filter(kind="appeal_window").exists()


def test_it_lets_the_requester_appeal_a_not_filed_closure_from_the_status_page(client, now):
    from requests_app.tokens import STATUS, make_token

    now(dt.datetime(2026, 3, 2, 10, tzinfo=DENVER))
    case = services.submit_request(jurisdiction="US-CO", request_types=["access"], requester_name="Ana",
                                   requester_email="ana@example.com")[0]
    services.close_not_filed(case, reason="Never confirmed")
    token = make_token(case, STATUS)
    page = client.get(reverse("public:status", args=[token])).content.decode()
    assert reverse("public:appeal", args=[token]) in page
    client.post(reverse("public:appeal", args=[token]), {"statement": "The e-mail never arrived"})
    assert case.appeals.count() == 1
