"""DRP 1.0 conformance: an agent signs real requests with PyNaCl and our endpoints answer as §2-§3
say, refusing in the order of §3.07 with the §3.06 error object, logging, and filing nothing."""
import base64
import datetime as dt
import json
import logging

import pytest
from nacl.signing import SigningKey

from requests_app.drp import protocol as P
from requests_app.drp.agent_client import AgentClient, sign
from requests_app.drp.models import AgentToken, DrpRequest
from requests_app.models import DataSubjectRequest, Event, State

from .test_protocol import EXPECTED

# --- pair-wise key set-up (§2.05, §2.06) ------------------------------------------------------------


def test_it_issues_a_bearer_token_to_a_registered_agent_and_stores_only_its_hash(db, api, agent):
    assert agent.token
    row = AgentToken.objects.get(agent__agent_id="PERMISSION_SLIP")
    assert row.token_hash != agent.token and len(row.token_hash) == 64
    response = api.get("/v1/agent/PERMISSION_SLIP", **agent.headers())
    assert response.status_code == 200 and response.json() == {}


def _pair_body(client: AgentClient, **claims):
    return sign(client.key, {**client.envelope(), **claims})


@pytest.mark.parametrize("case", ["unknown agent", "bad signature", "url mismatch", "wrong business", "expired",
                                  "future", "not base64"])
def test_it_answers_a_failed_key_setup_with_a_bare_403(db, api, agent, case, caplog):
    other_key = AgentClient("PERMISSION_SLIP")  # same id, a key that is not in the directory
    bodies = {
        "unknown agent": ("/v1/agent/NOBODY", _pair_body(AgentClient("NOBODY"))),
        "bad signature": ("/v1/agent/PERMISSION_SLIP", _pair_body(other_key)),
        "url mismatch": ("/v1/agent/OTHER", _pair_body(agent)),
        "wrong business": ("/v1/agent/PERMISSION_SLIP", _pair_body(agent, **{"business-id": "SOMEONE_ELSE"})),
        "expired": ("/v1/agent/PERMISSION_SLIP", sign(agent.key, agent.envelope(
            dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=30)))),
        "future": ("/v1/agent/PERMISSION_SLIP", sign(agent.key, agent.envelope(
            dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=5)))),
        "not base64": ("/v1/agent/PERMISSION_SLIP", "%%% not base64 %%%"),
    }
    path, body = bodies[case]
    before = AgentToken.objects.count()
    with caplog.at_level(logging.WARNING, logger="requests_app.drp.views"):
        response = api.post(path, body, content_type="text/plain")
    assert response.status_code == 403 and response.content == b""  # §2.05.1: no body
    assert AgentToken.objects.count() == before
    assert "DRP refused" in caplog.text


def test_it_refuses_agent_information_to_another_agents_token(db, api, agent, other_agent):
    assert api.get("/v1/agent/PERMISSION_SLIP", **other_agent.headers()).status_code == 403
    assert api.get("/v1/agent/PERMISSION_SLIP").status_code == 403
    assert api.get("/v1/agent/PERMISSION_SLIP", HTTP_AUTHORIZATION="Bearer forged").status_code == 403


def test_it_stops_accepting_a_removed_agents_token(db, api, agent):
    from requests_app.drp import services

    services.remove_agent("PERMISSION_SLIP")
    assert agent.file(api).status_code == 401
    assert agent.pair(api).status_code == 403


# --- filing (§2.01) -------------------------------------------------------------------------------


@pytest.mark.parametrize("regime, exercise", sorted(EXPECTED))
def test_it_files_each_exercise_under_each_regime_as_an_agent_case(db, api, agent, regime, exercise):
    response = agent.file(api, exercise=exercise, regime=regime, email="ana@example.com", name="Ana Example",
                          email_verified=True, phone_number="+14155550100", phone_number_verified=False,
                          address={"street_address": "1 Main St", "region": "CA", "country": "US"},
                          agent_request_id=f"ps-{regime}-{exercise}")
    assert response.status_code == 200, response.content
    body = response.json()
    drp = DrpRequest.objects.select_related("case").get()
    case = drp.case
    jurisdiction, request_type = EXPECTED[regime, exercise]
    assert (case.jurisdiction, case.request_type) == (jurisdiction, request_type)
    assert (case.filer, case.agent_organisation, case.agent_name) == ("agent", "Permission Slip", "Permission Slip")
    assert (case.requester_name, case.requester_email, case.phone) == ("Ana Example", "ana@example.com", "+14155550100")
    assert drp.claims["email_verified"] is True and drp.claims["phone_number_verified"] is False
    assert "E-mail: verified by the agent" in case.details and "Phone: not verified by the agent" in case.details
    assert body["request_id"] == str(drp.request_id) and body["agent_request_id"] == f"ps-{regime}-{exercise}"
    assert body["received_at"].endswith("Z")
    # The consumer still confirms directly (11 CCR §7063): we say so and where they go.
    assert (body["status"], body["reason"]) == ("in_progress", "need_user_verification")
    assert body["user_verification_url"] == f"http://testserver/drp/verify/{drp.request_id}/"
    event = Event.objects.get(case=case, kind="drp_received")
    assert event.data["channel"] == "drp" and event.data["agent_id"] == "PERMISSION_SLIP"
    assert event.data["claims_verified"] == {"email": True, "phone_number": False}
    assert case.attachments.get().kind == "authorisation"  # the signed request, the agent's evidence


def test_it_accepts_the_trailing_slash_url_of_earlier_versions(db, api, agent):
    _, body, headers = agent.exercise_request()
    assert api.post("/v1/data-rights-request/", body, content_type="text/plain", **headers).status_code == 200


def test_it_files_a_replayed_body_or_a_reused_agent_request_id_once(db, api, agent):
    _, body, headers = agent.exercise_request(agent_request_id="r-1")
    first = api.post("/v1/data-rights-request", body, content_type="text/plain", **headers).json()
    again = api.post("/v1/data-rights-request", body, content_type="text/plain", **headers).json()
    retried = agent.file(api, agent_request_id="r-1").json()  # a fresh signature, same agent request
    assert first["request_id"] == again["request_id"] == retried["request_id"]
    assert DataSubjectRequest.objects.count() == 1


def test_it_answers_a_retry_with_the_status_as_it_stands_now(db, api, agent, run):
    from requests_app import services as core

    _, body, headers = agent.exercise_request(exercise="sale:opt-out")
    assert api.post("/v1/data-rights-request", body, content_type="text/plain", **headers).json()["reason"]
    run(core.confirm_agent_permission, DrpRequest.objects.get().case)  # 11 CCR §7063(a): the consumer's word
    again = api.post("/v1/data-rights-request", body, content_type="text/plain", **headers).json()
    assert again["status"] == "in_progress" and "reason" not in again


def _now():
    return dt.datetime.now(dt.timezone.utc)


def _signed(agent, obj):
    return sign(agent.key, obj)


REFUSALS = {
    # name: (build the body from the agent, headers override or None, status, words in the message)
    "malformed base64": (lambda a: "not base64!", None, 400, "base64"),
    "malformed base64, no token": (lambda a: "not base64!", {}, 400, "base64"),  # §3.07: decoding comes first
    "too short": (lambda a: base64.b64encode(b"x" * 10).decode(), None, 400, "too short"),
    "bad signature": (lambda a: sign(SigningKey.generate(), a.exercise()), None, 403, "signature"),
    "tampered message": (lambda a: _tamper(sign(a.key, a.exercise())), None, 403, "signature"),
    "no token": (lambda a: sign(a.key, a.exercise()), {}, 401, "bearer token"),
    "unknown token": (lambda a: sign(a.key, a.exercise()), {"HTTP_AUTHORIZATION": "Bearer nope"}, 401, "bearer"),
    "another agent-id": (lambda a: sign(a.key, {**a.exercise(), "agent-id": "OTHER_AGENT"}), None, 403, "agent-id"),
    "wrong business id": (lambda a: sign(a.key, {**a.exercise(), "business-id": "ACME"}), None, 403, "business-id"),
    "expired": (lambda a: sign(a.key, a.exercise(now=_now() - dt.timedelta(minutes=11))), None, 400, "expired"),
    "expires exactly now": (lambda a: sign(a.key, a.exercise(now=_now() - dt.timedelta(minutes=10))), None, 400,
                            "expired"),
    "future issued-at": (lambda a: sign(a.key, a.exercise(now=_now() + dt.timedelta(minutes=2))), None, 400,
                         "future"),
    "bad timestamp": (lambda a: sign(a.key, {**a.exercise(), "issued-at": "yesterday"}), None, 400, "ISO 8601"),
    "old version": (lambda a: sign(a.key, {**a.exercise(), "drp.version": "0.9.4"}), None, 400, "drp.version"),
    "unknown exercise": (lambda a: sign(a.key, a.exercise(exercise="teleport")), None, 400, "Unsupported"),
    "unsupported regime": (lambda a: sign(a.key, a.exercise(regime="gdpr")), None, 400, "regime"),
    "no email claim": (lambda a: sign(a.key, {**a.exercise(), "email": None}), None, 400, "email"),
    "invalid email claim": (lambda a: sign(a.key, a.exercise(email="ana@@example")), None, 400, "e-mail address"),
    "oversize body": (lambda a: "A" * (P.MAX_BODY_BYTES + 4), None, 413, "larger"),
    "invalid JSON": (lambda a: sign(a.key, b"{'exercise': 'deletion'"), None, 400, "JSON"),
    "JSON not an object": (lambda a: sign(a.key, b"[1, 2]"), None, 400, "object"),
    "bad callback": (lambda a: sign(a.key, a.exercise(status_callback="ftp://x")), None, 400, "status_callback"),
}


def _tamper(b64: str) -> str:
    raw = bytearray(base64.b64decode(b64))
    raw[-3] ^= 0x01  # one bit of the JSON, after the signature
    return base64.b64encode(bytes(raw)).decode()


@pytest.mark.parametrize("name", sorted(REFUSALS))
def test_it_refuses_with_the_error_object_logs_and_files_nothing(db, api, agent, name, caplog):
    build, headers, status, words = REFUSALS[name]
    with caplog.at_level(logging.WARNING, logger="requests_app.drp.views"):
        response = api.post("/v1/data-rights-request", build(agent), content_type="text/plain",
                            **(agent.headers() if headers is None else headers))
    assert response.status_code == status
    error = response.json()
    assert error["code"] == str(status) and words.lower() in error["message"].lower()
    assert response["Content-Type"] == "application/json"
    assert not DataSubjectRequest.objects.exists() and not DrpRequest.objects.exists()
    assert not Event.objects.exists()
    assert f"DRP refused POST /v1/data-rights-request" in caplog.text and str(status) in caplog.text


def test_it_marks_an_expired_request_fatal(db, api, agent):
    body = sign(agent.key, agent.exercise(now=_now() - dt.timedelta(hours=1)))
    assert api.post("/v1/data-rights-request", body, content_type="text/plain", **agent.headers()).json()["fatal"]


@pytest.mark.parametrize("claims, first_failure", [
    # Several faults at once: the one reported is the first in §3.07's order.
    ({"agent-id": "OTHER_AGENT", "business-id": "ACME"}, "agent-id"),
    ({"business-id": "ACME", "expires-at": "2000-01-01T00:00:00Z"}, "business-id"),
    ({"issued-at": "2999-01-01T00:00:00Z", "expires-at": "2000-01-01T00:00:00Z"}, "future"),
])
def test_it_validates_in_the_order_of_section_3_07(db, api, agent, claims, first_failure):
    body = sign(agent.key, {**agent.exercise(), **claims})
    response = api.post("/v1/data-rights-request", body, content_type="text/plain", **agent.headers())
    assert first_failure in response.json()["message"]


def test_it_checks_the_signature_before_any_claim(db, api, agent):
    body = sign(SigningKey.generate(), {**agent.exercise(), "business-id": "ACME"})
    response = api.post("/v1/data-rights-request", body, content_type="text/plain", **agent.headers())
    assert response.status_code == 403 and "signature" in response.json()["message"]


def test_it_refuses_another_agents_request_signed_with_its_own_key(db, api, agent, other_agent):
    # OTHER_AGENT's token with a body signed by PERMISSION_SLIP: the key follows the token.
    body = sign(agent.key, agent.exercise())
    response = api.post("/v1/data-rights-request", body, content_type="text/plain", **other_agent.headers())
    assert response.status_code == 403 and "signature" in response.json()["message"]


def test_it_throttles_a_flood(db, api, agent, settings):
    from django.core.cache import cache

    settings.DRP_RATE_LIMIT = "2/m"
    cache.clear()
    codes = [agent.file(api).status_code for _ in range(3)]
    assert codes == [200, 200, 429]


# --- status (§2.02) and revoke (§2.04) ------------------------------------------------------------


@pytest.fixture
def filed(db, api, agent):
    return agent.file(api, exercise="deletion").json()["request_id"]


def test_it_answers_status_only_to_the_agent_managing_the_request(db, api, agent, other_agent, filed):
    assert agent.status(api, filed).json()["request_id"] == filed
    response = other_agent.status(api, filed)
    assert response.status_code == 403 and response.json()["code"] == "403"
    assert agent.status(api, "8c7f3a52-1d4e-4b7a-9a1f-0d2c3b4a5e6f").status_code == 404
    assert api.get(f"/v1/data-rights-request/{filed}").status_code == 401


def test_it_revokes_by_withdrawing_the_case(db, api, agent, filed):
    response = agent.revoke(api, filed, reason="I changed my mind")
    assert response.status_code == 200 and response.json()["status"] == "revoked"
    case = DrpRequest.objects.get(request_id=filed).case
    assert case.state == State.WITHDRAWN
    event = case.events.get(kind="withdraw")
    assert "Permission Slip" in event.reason and "I changed my mind" in event.reason
    again = agent.revoke(api, filed)  # idempotent: the new state again
    assert again.status_code == 200 and again.json()["status"] == "revoked"
    assert case.events.filter(kind="withdraw").count() == 1


def test_it_refuses_a_revoke_that_is_unsigned_foreign_or_too_late(db, api, agent, other_agent, filed, run,
                                                                    manager):
    from requests_app import services as core

    bad = sign(SigningKey.generate(), {"reason": "x"})
    response = api.delete(f"/v1/data-rights-request/{filed}", bad, content_type="text/plain", **agent.headers())
    assert response.status_code == 403
    assert other_agent.revoke(api, filed).status_code == 403
    assert agent.revoke(api, filed, **{"business-id": "ACME"}).status_code == 403  # a claim present is checked
    case = DrpRequest.objects.get(request_id=filed).case
    assert case.state == State.SUBMITTED
    run(core.confirm_email, case)
    run(core.confirm_agent_permission, case)
    run(core.verify_identity, case, manager, method="matched account")
    run(core.fulfil, case, manager, decision={"actions": "deleted"})
    response = agent.revoke(api, filed)
    assert response.status_code == 409 and "fulfilled" in response.json()["message"]


# --- the GPC support resource -------------------------------------------------------------------


def test_it_serves_the_gpc_support_resource(client, settings):
    settings.GPC_LAST_UPDATE = "2026-11-30"
    response = client.get("/.well-known/gpc.json")
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    assert json.loads(response.content) == {"gpc": True, "lastUpdate": "2026-11-30"}
    dt.date.fromisoformat(response.json()["lastUpdate"])


def test_it_refuses_everything_while_no_business_id_is_configured(db, api, agent, settings):
    settings.DRP_BUSINESS_ID = ""
    response = agent.file(api)
    assert response.status_code == 503 and "DRP_BUSINESS_ID" in response.json()["message"]
    assert not DataSubjectRequest.objects.exists()




def test_it_keeps_only_the_latest_tokens_of_an_agent_that_pairs_again_and_again(db, api, agent):
    from requests_app.drp.services import TOKENS_KEPT

    first = agent.token
    for _ in range(TOKENS_KEPT):
        assert agent.pair(api).status_code == 200
    assert AgentToken.objects.filter(agent__agent_id="PERMISSION_SLIP").count() == TOKENS_KEPT
    assert agent.file(api).status_code == 200  # the newest works
    agent.token = first
    assert agent.file(api).status_code == 401  # the oldest was dropped


def test_it_takes_only_https_callbacks_in_production(db, api, agent, settings):
    settings.DRP_CALLBACK_REQUIRE_HTTPS = True
    response = agent.file(api, status_callback="http://agent.example.org/cb")
    assert response.status_code == 400 and "status_callback" in response.json()["message"]
    assert agent.file(api, status_callback="https://agent.example.org/cb").status_code == 200
