"""Who may see and do what in the staff UI: anonymous → login page; no role or wrong role → a 403
page that says why; the right role → allowed. Analysts work their own cases and read the
unassigned pool; managers do everything; auditors read everything and change nothing."""
import datetime as dt

import pytest
import time_machine
from django.contrib.auth.models import User
from django.urls import reverse

from requests_app import services
from requests_app.models import DataSubjectRequest, Event, State
from tests.fixtures import make_user

T0 = dt.datetime(2026, 3, 2, 17, 0, tzinfo=dt.timezone.utc)


@pytest.fixture
def case(db):
    with time_machine.travel(T0, tick=False):
        case = services.submit_request(jurisdiction="DE", request_types=["access"], requester_name="Ana Example",
                                       requester_email="ana@example.com")[0]
        services.confirm_email(case)
    return DataSubjectRequest.objects.get(pk=case.pk)


def urls(case):
    return [reverse("staff:queue"), reverse("staff:case", args=[case.pk]), reverse("staff:calculator"),
            reverse("staff:metrics")]


def test_anonymous_users_go_to_the_login_page(client, case):
    for url in urls(case):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/accounts/login/?next=")
    response = client.post(reverse("staff:case_action", args=[case.pk, "verify"]), {"version": case.version,
                                                                                    "method": "x"})
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert DataSubjectRequest.objects.get(pk=case.pk).state == State.VERIFYING


def test_login_page_signs_staff_in_and_lands_on_the_queue(client, manager):
    page = client.get("/accounts/login/?next=/staff/")
    assert page.status_code == 200 and b"Staff sign in" in page.content
    response = client.post("/accounts/login/", {"username": "mia", "password": "pw-123456789", "next": "/staff/"})
    assert response.status_code == 302 and response["Location"] == "/staff/"
    bad = client.post("/accounts/login/", {"username": "mia", "password": "wrong"})
    assert bad.status_code == 200 and b"errorlist" in bad.content


def test_a_user_without_a_staff_role_gets_a_clear_403(client, case):
    User.objects.create_user("visitor", "v@example.com", "pw-123456789")
    client.login(username="visitor", password="pw-123456789")
    for url in urls(case):
        response = client.get(url)
        assert response.status_code == 403, url
        assert b"no privacy-team role" in response.content
        assert b"You are not allowed to do this" in response.content


@pytest.mark.parametrize("role", ["analyst", "manager", "auditor"])
def test_every_role_may_open_the_queue_calculator_and_metrics(client, role, case):
    client.force_login(make_user(f"u-{role}", role))
    for url in (reverse("staff:queue"), reverse("staff:calculator"), reverse("staff:metrics")):
        assert client.get(url).status_code == 200


def test_analyst_reads_unassigned_cases_but_cannot_act_on_them(client, analyst, case):
    client.force_login(analyst)
    page = client.get(reverse("staff:case", args=[case.pk]))
    assert page.status_code == 200
    assert b"Read-only: this case is not assigned to you" in page.content
    assert b"/act/verify/" not in page.content
    response = client.post(reverse("staff:case_action", args=[case.pk, "verify"]),
                           {"version": case.version, "method": "login"})
    assert response.status_code == 403 and b"is not assigned to you" in response.content
    assert DataSubjectRequest.objects.get(pk=case.pk).state == State.VERIFYING


def test_analyst_cannot_open_someone_elses_case(client, manager, analyst, case):
    other = make_user("olga", "analyst")
    services.assign(case, manager, other)
    client.force_login(analyst)
    response = client.get(reverse("staff:case", args=[case.pk]))
    assert response.status_code == 403
    assert b"is assigned to olga" in response.content and b"ask a manager to reassign it" in response.content
    assert client.post(reverse("staff:reveal", args=[case.pk])).status_code == 403


def test_analyst_works_own_cases(client, manager, analyst, case):
    services.assign(case, manager, analyst)
    client.force_login(analyst)
    page = client.get(reverse("staff:case", args=[case.pk]))
    assert b"/act/verify/" in page.content and b"/act/assign/" not in page.content
    case.refresh_from_db()
    response = client.post(reverse("staff:case_action", args=[case.pk, "verify"]),
                           {"version": case.version, "method": "account login"})
    assert response.status_code == 302
    assert DataSubjectRequest.objects.get(pk=case.pk).state == State.IN_PROGRESS


def test_analyst_may_not_assign_or_decide_appeals(client, manager, analyst, case):
    services.assign(case, manager, analyst)
    case.refresh_from_db()
    client.force_login(analyst)
    response = client.post(reverse("staff:case_action", args=[case.pk, "assign"]),
                           {"version": case.version, "assignee": analyst.pk})
    assert response.status_code == 403 and b"not available" in response.content


def test_auditor_reads_everything_and_changes_nothing(client, manager, auditor, case):
    other = make_user("olga", "analyst")
    services.assign(case, manager, other)
    case.refresh_from_db()
    client.force_login(auditor)
    page = client.get(reverse("staff:case", args=[case.pk]))
    assert page.status_code == 200
    assert b"Read-only: your role can read cases but not change them" in page.content
    assert b"/act/" not in page.content and b"Reveal requester details" not in page.content
    for action, data in [("verify", {"method": "x"}), ("note", {"text": "hi"}), ("deny", {"reasons": "x"}),
                         ("extend", {"reason": "x", "kind": "respond"})]:
        response = client.post(reverse("staff:case_action", args=[case.pk, action]),
                               {"version": case.version, **data})
        assert response.status_code == 403, action
        assert b"can read cases but not change them" in response.content
    assert client.post(reverse("staff:reveal", args=[case.pk])).status_code == 403
    assert DataSubjectRequest.objects.get(pk=case.pk).version == case.version
    assert not Event.objects.filter(actor=auditor).exists()


def test_unknown_actions_are_404(client, manager, case):
    client.force_login(manager)
    assert client.post(reverse("staff:case_action", args=[case.pk, "explode"]), {}).status_code == 404
    assert client.get(reverse("staff:case", args=[999999])).status_code == 404


def test_actions_need_post(client, manager, case):
    client.force_login(manager)
    assert client.get(reverse("staff:case_action", args=[case.pk, "verify"])).status_code == 405
    assert client.get(reverse("staff:reveal", args=[case.pk])).status_code == 405
