"""Appeals in the staff UI (cpa, ctdpa, vcdpa): their own queue rows and clock, review, a written
decision (a denied appeal's letter tells the requester how to reach their Attorney General),
extension (Colorado only), recording an appeal received by post, late acceptance, conflicts."""
import datetime as dt

import pytest
import time_machine
from django.contrib.auth.models import User
from django.urls import reverse

from requests_app import regimes as R
from requests_app import services
from requests_app.models import Appeal, AppealState, DataSubjectRequest, Letter
from tests.fixtures import make_user

UTC = dt.timezone.utc
T0 = dt.datetime(2026, 3, 2, 17, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def denied(manager, jurisdiction="US-CO", email="appellant@example.com"):
    # Decided by another manager: whoever decided a request may not decide its appeal.
    decider = User.objects.filter(username="dan").first() or make_user("dan", "manager")
    case = services.submit_request(jurisdiction=jurisdiction, request_types=["access"], requester_name="Ana",
                                   requester_email=email)[0]
    services.confirm_email(case)
    services.verify_identity(case, decider, method="account login")
    return services.deny(case, decider, reasons="We hold no data about you.")


def appealed(manager, jurisdiction="US-CO", email="appellant@example.com"):
    return services.file_appeal(denied(manager, jurisdiction, email), statement="You do hold my data.")


def post(client, appeal, action, **data):
    appeal = Appeal.objects.select_related("case").get(pk=appeal.pk)
    payload = {"version": appeal.case.version, "appeal_version": appeal.version, **data}
    return client.post(reverse("staff:appeal_action", args=[appeal.case_id, appeal.pk, action]), payload)


def test_appeal_is_its_own_queue_row_with_its_own_clock(client, manager):
    appeal = appealed(manager)
    client.force_login(manager)
    body = client.get(reverse("staff:queue"), {"show": "appeals"}).content.decode()
    assert f"/staff/cases/{appeal.case_id}/#appeal-{appeal.pk}" in body
    assert "Decide the appeal" in body and "Thu 16 Apr 2026" in body  # C.R.S. 6-1-1306(3): 45 days
    page = client.get(reverse("staff:case", args=[appeal.case_id])).content.decode()
    assert f'id="appeal-{appeal.pk}"' in page and "You do hold my data." in page
    assert "C.R.S. 6-1-1306(3)(b)" in page


def test_review_then_decide_with_written_reasons(client, manager):
    appeal = appealed(manager)
    client.force_login(manager)
    assert post(client, appeal, "start_review").status_code == 302
    assert Appeal.objects.get(pk=appeal.pk).state == AppealState.IN_REVIEW
    response = post(client, appeal, "decide", outcome="upheld", reasons="")
    assert response.status_code == 400 and "This field is required." in response.content.decode()
    response = post(client, appeal, "decide", outcome="upheld",
                    reasons="We searched all systems again and hold no data about you.")
    assert response.status_code == 302 and response["Location"].endswith(f"#appeal-{appeal.pk}")
    appeal = Appeal.objects.get(pk=appeal.pk)
    assert appeal.state == AppealState.UPHELD and appeal.decided_by == manager and appeal.next_due_at is None
    letter = Letter.objects.get(appeal=appeal, kind="appeal_decision")
    assert "Colorado Attorney General" in letter.context["attorney_general"]  # C.R.S. 6-1-1306(3)
    assert letter.context["reasons"] == "We searched all systems again and hold no data about you."
    body = client.get(reverse("staff:queue")).content.decode()
    assert appeal.case.reference not in body  # decided: off the queue


@pytest.mark.parametrize("outcome", ["reversed", "partially_reversed"])
def test_other_outcomes(client, manager, outcome):
    appeal = appealed(manager)
    client.force_login(manager)
    assert post(client, appeal, "decide", outcome=outcome, reasons="On review we found your data.").status_code \
        == 302
    assert Appeal.objects.get(pk=appeal.pk).state == outcome


def test_colorado_appeal_may_be_extended_once_with_a_reason(client, manager):
    appeal = appealed(manager)
    client.force_login(manager)
    page = client.get(reverse("staff:case", args=[appeal.case_id])).content.decode()
    assert f"/appeals/{appeal.pk}/extend/" in page
    assert post(client, appeal, "extend", reason="").status_code == 400
    assert post(client, appeal, "extend", reason="Complex systems search").status_code == 302
    clock = appeal.deadlines.get(kind=R.APPEAL_RESPOND)
    assert clock.extended and clock.due_date == dt.date(2026, 6, 15)  # 45 + 60 days (6-1-1306(3)(b))
    assert Appeal.objects.get(pk=appeal.pk).next_due_at == clock.due_at
    assert Letter.objects.filter(appeal=appeal, kind="extension_notice").exists()
    assert f"/appeals/{appeal.pk}/extend/" not in client.get(reverse("staff:case", args=[appeal.case_id])) \
        .content.decode()


def test_connecticut_appeal_cannot_be_extended(client, manager):
    appeal = appealed(manager, "US-CT", "ct@example.com")
    client.force_login(manager)
    page = client.get(reverse("staff:case", args=[appeal.case_id])).content.decode()
    assert f"/appeals/{appeal.pk}/extend/" not in page and f"/appeals/{appeal.pk}/decide/" in page
    response = post(client, appeal, "extend", reason="Please")
    assert response.status_code == 403
    assert not appeal.deadlines.get(kind=R.APPEAL_RESPOND).extended


def test_analysts_and_auditors_cannot_review_or_decide(client, manager, analyst, auditor):
    appeal = appealed(manager)
    services.assign(appeal.case, manager, analyst)
    for user in (analyst, auditor):
        client.force_login(user)
        page = client.get(reverse("staff:case", args=[appeal.case_id])).content.decode()
        assert "/appeals/" not in page
        response = post(client, appeal, "start_review")
        assert response.status_code == 403 and b"Only a manager may review" in response.content
    assert Appeal.objects.get(pk=appeal.pk).state == AppealState.RECEIVED


def test_stale_appeal_version_is_a_conflict_that_keeps_the_reasons(client, manager):
    appeal = appealed(manager)
    client.force_login(manager)
    stale = {"version": DataSubjectRequest.objects.get(pk=appeal.case_id).version, "appeal_version": appeal.version}
    services.start_appeal_review(appeal, manager)  # someone else started the review
    response = client.post(reverse("staff:appeal_action", args=[appeal.case_id, appeal.pk, "decide"]),
                           {**stale, "outcome": "upheld", "reasons": "My carefully written reasons"})
    assert response.status_code == 409
    html = response.content.decode()
    assert "changed by someone else" in html and "My carefully written reasons" in html
    assert Appeal.objects.get(pk=appeal.pk).state == AppealState.IN_REVIEW


def test_record_an_appeal_received_by_post_and_late_acceptance(client, manager, analyst, frozen):
    case = denied(manager)
    services.assign(case, manager, analyst)
    url = reverse("staff:case_action", args=[case.pk, "record_appeal"])
    version = DataSubjectRequest.objects.get(pk=case.pk).version
    frozen.move_to(T0 + dt.timedelta(days=50))  # the 45-day window has closed
    client.force_login(analyst)
    response = client.post(url, {"version": version, "statement": "Letter received 20 April"})
    assert response.status_code == 400 and "The window to appeal closed on 2026-04-16" in response.content.decode()
    response = client.post(url, {"version": version, "statement": "Letter", "late_reason": "Postal strike"})
    assert response.status_code == 403 and b"Only a manager may accept a late appeal." in response.content
    client.force_login(manager)
    response = client.post(url, {"version": version, "statement": "Letter received 20 April",
                                 "late_reason": "Postal strike delayed the letter"})
    assert response.status_code == 302
    appeal = Appeal.objects.get(case=case)
    assert appeal.late_accepted_reason == "Postal strike delayed the letter"
    assert appeal.deadlines.get(kind=R.APPEAL_RESPOND).status == "open"
