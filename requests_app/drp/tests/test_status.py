"""Status objects (§3.03) built from our state machine as staff work the case."""
import datetime as dt

import pytest

from requests_app import services as core
from requests_app.drp.models import DrpRequest

T0 = dt.datetime(2026, 3, 2, 15, 0, tzinfo=dt.timezone.utc)


@pytest.fixture
def filed(now, db, api, agent):
    def _file(exercise="deletion", **kw):
        body = agent.file(api, exercise=exercise, **kw).json()
        return DrpRequest.objects.select_related("case").get(request_id=body["request_id"])
    return _file


def status(agent, api, drp):
    response = agent.status(api, drp.request_id)
    assert response.status_code == 200
    return response.json()


def test_it_reports_the_legal_due_date_and_an_extension_with_its_reason(filed, agent, api, run, manager):
    drp = filed("deletion")
    run(core.confirm_email, drp.case)
    run(core.confirm_agent_permission, drp.case)
    body = status(agent, api, drp)
    # CCPA: 45 days from receipt (Civ. Code §1798.130(a)(2)); the date ends at midnight in California.
    assert body["status"] == "in_progress" and "reason" not in body
    assert body["expected_by"] == "2026-04-17T06:59:59.999999Z"
    assert body["received_at"] == "2026-03-02T15:00:00Z"
    run(core.extend_deadline, drp.case, manager, reason="We must search twelve systems")
    body = status(agent, api, drp)
    assert body["expected_by"] == "2026-06-01T06:59:59.999999Z"  # 90 days in all (11 CCR §7021(b))
    assert "We must search twelve systems" in body["processing_details"]


def test_it_asks_the_agent_to_send_the_consumer_when_we_need_them(filed, agent, api, run, manager):
    drp = filed("access")
    assert status(agent, api, drp)["reason"] == "need_user_verification"  # the consumer's own confirmation
    run(core.confirm_email, drp.case)
    assert status(agent, api, drp)["reason"] == "need_user_verification"  # the agent's permission, directly
    run(core.confirm_agent_permission, drp.case)
    assert "reason" not in status(agent, api, drp)
    run(core.request_information, drp.case, manager, what="identity", message="Send a copy of your ID")
    body = status(agent, api, drp)
    assert (body["status"], body["reason"]) == ("in_progress", "need_user_verification")
    assert body["user_verification_url"].endswith(f"/drp/verify/{drp.request_id}/")
    assert "identity" in body["processing_details"]


@pytest.mark.parametrize("basis, reason", [("unverifiable", "insuf_verification"),
                                           ("not_consumer", "outside_jurisdiction"),
                                           ("exempt", "claim_not_covered"), ("other", "other")])
def test_it_maps_our_denial_basis_to_the_drp_reason(filed, agent, api, run, manager, basis, reason):
    drp = filed("deletion")
    run(core.confirm_email, drp.case)
    run(core.deny, drp.case, manager, reasons="We could not match you to an account", decision={"basis": basis})
    body = status(agent, api, drp)
    assert (body["status"], body["reason"]) == ("denied", reason)
    assert body["processing_details"] == "We could not match you to an account"
    assert "expected_by" not in body


def test_it_reports_fulfilment_and_a_request_never_confirmed(filed, agent, api, run, manager, now):
    done = filed("sale:opt-out")
    # An opt-out needs no confirmation or verification (11 CCR §7026(d)); the agent's permission does.
    run(core.confirm_agent_permission, done.case)
    run(core.fulfil, done.case, manager, decision={"actions": "Stopped selling"})
    assert status(agent, api, done)["status"] == "fulfilled"
    never = filed("deletion")
    now(T0 + dt.timedelta(days=20))
    run(core.close_not_filed, never.case, reason="Never confirmed")
    assert (status(agent, api, never)["status"], status(agent, api, never)["reason"]) == \
        ("denied", "insuf_verification")


def test_it_lets_the_consumer_ask_for_their_link_again_at_the_verification_url(filed, api, mailoutbox):
    drp = filed("deletion", email="ana@example.com")
    url = f"/drp/verify/{drp.request_id}/"
    page = api.get(url)
    assert page.status_code == 200 and "a••@example.com" in page.content.decode()
    assert "ana@example.com" not in page.content.decode()
    assert api.get(url, {"request_id": "someone-else"}).status_code == 400  # §3.02.1
    mailoutbox.clear()
    assert api.post(url).status_code == 200
    (mail,) = mailoutbox
    assert mail.to == ["ana@example.com"]  # never the agent's address
    # First the consumer confirms the agent's permission directly (11 CCR §7063(a)); then the request.
    assert "/agent-permission/" in mail.body
    core.confirm_agent_permission(drp.case)
    mailoutbox.clear()
    assert api.post(url).status_code == 200
    (mail,) = mailoutbox
    assert mail.to == ["ana@example.com"] and "/confirm/" in mail.body
