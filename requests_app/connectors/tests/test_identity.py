"""Identity source: on e-mail confirmation the requester is looked up by what they gave and the
match level is recorded and shown. CCPA: two data points (11 CCR §7062(b)); Mexico: the
registered e-mail must match (policy, section M)."""
import pytest

from requests_app import services as core
from requests_app.connectors.matching import match_level
from requests_app.connectors.models import IdentityMatch
from requests_app.models import Event

pytestmark = pytest.mark.django_db

ROW = {"email": "Ana@Example.com", "account_id": "A-1001", "phone": "+1 (415) 555-0101"}


@pytest.mark.parametrize("given, mexico, level, matched", [
    ({"email": "ana@example.com"}, False, "email_only", ["email"]),
    ({"email": "ana@example.com", "account_id": "A-1001"}, False, "two_points", ["email", "account_id"]),
    ({"email": "ana@example.com", "phone": "415-555-0101"}, False, "two_points", ["email", "phone"]),
    ({"email": "ana@example.com", "account_id": "A-9999"}, False, "email_only", ["email"]),
    ({"email": "other@example.com"}, False, "none", []),
    ({"email": "other@example.com", "account_id": "A-1001"}, False, "none", ["account_id"]),
    ({"email": "other@example.com", "account_id": "A-1001", "phone": "4155550101"}, False, "two_points",
     ["account_id", "phone"]),
    # Mexico: without the registered e-mail, two other points do not count.
    ({"email": "other@example.com", "account_id": "A-1001", "phone": "4155550101"}, True, "none",
     ["account_id", "phone"]),
    ({"email": "ana@example.com", "account_id": "A-1001"}, True, "two_points", ["email", "account_id"]),
])
def test_it_grades_the_match(given, mexico, level, matched):
    got_level, got_matched, note = match_level(given, [ROW], email_must_match=mexico)
    assert (got_level, got_matched) == (level, matched) and note


def test_it_takes_the_best_matching_record_and_login_only_with_the_email():
    rows = [{"email": "x@example.com", "account_id": "A-1001"}, ROW]
    assert match_level({"email": "ana@example.com", "account_id": "A-1001"}, rows)[0] == "two_points"
    assert match_level({"email": "ana@example.com"}, [ROW], login=True)[0] == "account_login"
    assert match_level({"email": "zed@example.com"}, [ROW], login=True)[0] == "none"


@pytest.mark.parametrize("jurisdiction, kw, level", [
    ("US-CA", {"requester_email": "ana@example.com", "account_id": "A-1001"}, "two_points"),
    ("US-CA", {"requester_email": "ana@example.com"}, "email_only"),
    ("US-CA", {"requester_email": "nobody@example.com", "phone": "+1 415 555 0101"}, "none"),
    ("MX", {"requester_email": "other@example.mx", "account_id": "A-1003", "phone": "+52 55 5555 0003"}, "none"),
    ("MX", {"requester_email": "carla@example.mx", "account_id": "A-1003"}, "two_points"),
])
def test_it_looks_the_requester_up_on_email_confirmation(jurisdiction, kw, level, shop_systems, submit, run,
                                                         manager, client):
    case = submit(jurisdiction, "access", **kw)
    assert not IdentityMatch.objects.filter(case=case).exists()
    run(core.confirm_email, case)
    match = IdentityMatch.objects.get(case=case)
    assert match.level == level and not match.error
    event = Event.objects.get(case=case, kind="identity_matched")
    assert event.data["level"] == level
    assert kw["requester_email"] not in str(event.data)  # which points matched, never their values
    client.force_login(manager)
    assert match.get_level_display() in client.get(f"/staff/cases/{case.pk}/").content.decode()


def test_it_says_on_a_california_case_when_two_data_points_are_met(shop_systems, submit, run, manager, client):
    case = submit("US-CA", "access", requester_email="ana@example.com", account_id="A-1001")
    run(core.confirm_email, case)
    client.force_login(manager)
    html = client.get(f"/staff/cases/{case.pk}/").content.decode()
    assert "Two data points" in html and "reasonable degree of certainty is met (11 CCR §7062(b))" in html
    other = submit("US-CA", "access", requester_email="ben@example.com")
    run(core.confirm_email, other)
    html = client.get(f"/staff/cases/{other.pk}/").content.decode()
    assert "E-mail only" in html and "is not met" in html


def test_it_records_an_unreachable_identity_source_as_no_match_with_the_error(shop_systems, submit, run):
    connector = shop_systems[0].connector
    connector.set_url("mysql://root@127.0.0.1:1/none")
    connector.save()
    case = submit("US-CA", "access")
    run(core.confirm_email, case)
    match = IdentityMatch.objects.get(case=case)
    assert match.level == "none" and "cannot connect" in match.error
