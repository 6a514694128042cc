"""The same permissions as the staff UI, per key role: auditors read everything and change
nothing; analysts see their own cases and the unassigned pool and act only on their own;
managers do everything."""
import pytest

from requests_app import services
from requests_app.models import DataSubjectRequest, Event, State

from .helpers import confirmed


def url(case, action=""):
    return f"/api/v1/requests/{case.pk}/" + (f"{action}/" if action else "")


@pytest.fixture
def cases(keys, manager):
    """A case of the analyst key, one of another analyst, one in the unassigned pool (all verifying)."""
    from tests.fixtures import make_user

    other = make_user("olga", "analyst")
    mine, theirs, pool = (confirmed(requester_email=f"{n}@example.com") for n in ("mine", "theirs", "pool"))
    services.assign(mine, manager, keys["analyst"].user)
    services.assign(theirs, manager, other)
    return {"mine": mine, "theirs": theirs, "pool": pool}


def test_it_lets_an_auditor_key_read_everything_and_change_nothing(keys, cases):
    auditor = keys["auditor"]
    listed = auditor.get("/api/v1/requests/").json()["results"]
    assert {r["id"] for r in listed} == {c.pk for c in cases.values()}
    assert auditor.get(url(cases["theirs"])).status_code == 200
    for case in cases.values():
        response = auditor.post(url(case, "verify"), {"method": "passport"}, format="json")
        assert response.status_code == 403
        assert response.json()["code"] == "permission_denied"
        assert "read cases but not change" in response.json()["message"]
    created = auditor.post("/api/v1/requests/", {"jurisdiction": "DE", "request_types": ["access"],
                                                 "requester_name": "A", "requester_email": "a@example.com"},
                           format="json")
    assert created.status_code == 403
    assert not DataSubjectRequest.objects.exclude(state=State.VERIFYING).exists()


def test_it_keeps_an_analyst_key_to_its_own_cases_and_the_pool(keys, cases):
    analyst = keys["analyst"]
    listed = {r["id"] for r in analyst.get("/api/v1/requests/").json()["results"]}
    assert listed == {cases["mine"].pk, cases["pool"].pk}
    response = analyst.get(url(cases["theirs"]))
    assert response.status_code == 403 and "assigned to olga" in response.json()["message"]
    assert analyst.post(url(cases["theirs"], "verify"), {"method": "passport"}, format="json").status_code == 403
    pool = analyst.post(url(cases["pool"], "verify"), {"method": "passport"}, format="json")
    assert pool.status_code == 403 and "not assigned to you" in pool.json()["message"]
    assert analyst.post(url(cases["mine"], "assign"), {"assignee": None}, format="json").status_code == 403
    ok = analyst.post(url(cases["mine"], "verify"), {"method": "passport"}, format="json")
    assert ok.status_code == 200 and ok.json()["state"] == State.IN_PROGRESS
    event = Event.objects.get(case=cases["mine"], kind="verify")
    assert event.actor == keys["analyst"].user  # the audit trail names the key's service account
    states = dict(DataSubjectRequest.objects.values_list("pk", "state"))
    assert states[cases["theirs"].pk] == states[cases["pool"].pk] == State.VERIFYING


def test_it_lets_a_manager_key_act_on_every_case_and_assign(keys, cases, analyst):
    manager = keys["manager"]
    assert manager.post(url(cases["theirs"], "verify"), {"method": "passport"}, format="json").status_code == 200
    response = manager.post(url(cases["pool"], "assign"), {"assignee": "andy"}, format="json")
    assert response.status_code == 200 and response.json()["assignee"] == "andy"


def test_it_refuses_users_without_a_staff_role_and_anonymous_callers(db, cases, client):
    from django.contrib.auth.models import User

    User.objects.create_user("visitor", "v@example.com", "pw-123456789")
    client.login(username="visitor", password="pw-123456789")
    response = client.get("/api/v1/requests/")
    assert response.status_code == 403 and "no privacy-team role" in response.json()["message"]
    client.logout()
    assert client.get("/api/v1/requests/").status_code == 401


def test_it_accepts_a_staff_session_with_csrf_for_writes(db, cases, manager):
    from rest_framework.test import APIClient

    client = APIClient(enforce_csrf_checks=True)
    client.force_login(manager)
    assert client.get(url(cases["pool"])).status_code == 200
    refused = client.post(url(cases["pool"], "verify"), {"method": "passport"}, format="json")
    assert refused.status_code == 403 and "CSRF" in refused.json()["message"]


def test_it_reveals_requester_details_only_when_asked_and_audits_it(keys, cases):
    auditor, analyst = keys["auditor"], keys["analyst"]
    masked = analyst.get(url(cases["mine"])).json()["requester"]
    assert masked["masked"] and masked["email"] == "m***@example.com"
    assert not Event.objects.filter(kind="requester_revealed").exists()
    shown = analyst.get(url(cases["mine"]) + "?reveal=true").json()["requester"]
    assert (shown["name"], shown["email"], shown["masked"]) == ("Ana Example", "mine@example.com", False)
    assert Event.objects.get(kind="requester_revealed").actor == keys["analyst"].user
    assert auditor.get(url(cases["mine"]) + "?reveal=true").status_code == 403  # auditors have no reveal right
