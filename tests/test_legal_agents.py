"""Authorised agents (spec section 5, 11 CCR §7063): the agent's confirmation never stands for the
consumer's. Unless the agent holds a power of attorney, the consumer confirms directly that they
gave the agent permission; until then the case says it awaits the consumer, and its clock runs."""
import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.urls import reverse

from requests_app import services
from requests_app.models import Event, State
from requests_app.tokens import STATUS, make_token

LA = ZoneInfo("America/Los_Angeles")
AUTH = services.Upload("permission.pdf", b"%PDF-1.4 signed permission", "application/pdf")


def agent_case(submit, now, **kw):
    now(dt.datetime(2026, 3, 2, 10, tzinfo=LA))
    return submit("US-CA", "deletion", filer="agent", agent_name="Privacy Helpers", agent_email="agent@helpers.example",
                  authorisation=AUTH, **kw)


def permission_link(address="ana@example.com") -> str:
    for message in mail.outbox:
        match = re.search(r"https?://[^/\s]+(/agent-permission/[^\s]+/)", message.body)
        if match:
            assert message.to == [address]  # the consumer only, never the agent
            return match.group(1)
    raise AssertionError("no permission e-mail")


def test_it_sends_the_confirmation_to_the_consumer_and_the_agent_and_asks_the_consumer_alone(submit, now):
    case = agent_case(submit, now)
    confirm = [m for m in mail.outbox if "/confirm/" in m.body]
    assert confirm and set(confirm[0].to) == {"ana@example.com", "agent@helpers.example"}
    assert permission_link()
    assert case.awaits_consumer_permission


def test_it_does_not_let_the_agents_click_stand_for_the_consumer(submit, now, manager):
    case = agent_case(submit, now)
    case = services.confirm_email(case)  # the agent follows the confirmation link
    assert case.state == State.VERIFYING and case.awaits_consumer_permission
    with pytest.raises(services.ServiceError, match="consumer"):
        services.verify_identity(case, manager, method="Agent's signed permission")
    respond = case.deadlines.get(kind="respond")
    assert respond.status == "open" and respond.paused_since is None and respond.due_date == dt.date(2026, 4, 16)


def test_it_shows_that_the_case_awaits_the_consumer(client, submit, now, manager):
    case = services.confirm_email(agent_case(submit, now))
    client.force_login(manager)
    staff_page = client.get(reverse("staff:case", args=[case.pk])).content.decode()
    assert "Awaiting the consumer" in staff_page
    status_page = client.get(reverse("public:status", args=[make_token(case, STATUS)])).content.decode()
    assert "waiting for you to confirm that you gave" in status_page


def test_it_lets_the_consumer_confirm_the_agents_permission_directly(client, submit, now, manager):
    case = services.confirm_email(agent_case(submit, now))
    link = permission_link()
    page = client.get(link).content.decode()  # a mail scanner's GET confirms nothing
    assert "Privacy Helpers" in page
    case.refresh_from_db()
    assert case.awaits_consumer_permission
    client.post(link, {"answer": "yes"})
    case.refresh_from_db()
    assert not case.awaits_consumer_permission and case.agent_permission_confirmed_at is not None
    event = Event.objects.get(case=case, kind="agent_permission_confirmed")
    assert event.actor_label == "requester" and event.public
    services.verify_identity(case, manager, method="Signed permission and consumer's confirmation")


def test_it_withdraws_when_the_consumer_says_they_gave_no_permission(client, submit, now):
    case = agent_case(submit, now)
    client.post(permission_link(), {"answer": "no"})
    case.refresh_from_db()
    assert case.state == State.WITHDRAWN


def test_it_needs_no_direct_confirmation_when_the_agent_holds_a_power_of_attorney(submit, now, manager):
    case = agent_case(submit, now, power_of_attorney=True)
    assert not case.awaits_consumer_permission
    assert not any("/agent-permission/" in m.body for m in mail.outbox)
    case = services.confirm_email(case)
    services.verify_identity(case, manager, method="Power of attorney (Probate Code §4121)")


def test_it_lets_an_agent_say_in_the_form_that_they_hold_a_power_of_attorney(db, client,
                                                                            django_capture_on_commit_callbacks):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from requests_app.models import DataSubjectRequest
    from tests.public_helpers import fresh_cache, identity_data, location_data  # noqa: F401

    client.post("/", location_data("US-CA"))
    client.post("/request/what/", {"request_types": ["deletion"]})
    page = client.get("/request/about-you/").content.decode()
    assert 'name="power_of_attorney"' in page
    response = client.post("/request/about-you/", {
        **identity_data(filer="agent"), "agent_name": "Bea Agent", "agent_email": "bea@agency.example",
        "power_of_attorney": "on",
        "authorisation": SimpleUploadedFile("poa.pdf", b"%PDF-1.4\n%%EOF\n", content_type="application/pdf")})
    assert response.status_code == 302
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/request/review/", {"declaration": "on"})
    case = DataSubjectRequest.objects.get()
    assert case.agent_power_of_attorney and not case.awaits_consumer_permission
