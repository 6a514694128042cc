"""DRP use cases: register agents, set up pair-wise tokens, file, report and revoke requests.
Every write to a case goes through the core services; this app only adds its own rows."""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from nacl.utils import random as nacl_random

from requests_app.uploads import Record

from requests_app import configaudit
from requests_app import regimes as R
from requests_app import services as core
from requests_app.models import Awaiting, DeadlineStatus, Filer, State
from requests_app.tokens import absolute_url

from . import protocol as P
from .models import Agent, AgentToken, DrpRequest

log = logging.getLogger(__name__)


def business_id() -> str:
    value = getattr(settings, "DRP_BUSINESS_ID", "")
    if not value:
        raise P.DrpError(503, "This covered business has no DRP business id configured (DRP_BUSINESS_ID).")
    return value


def business_entry() -> dict:
    """Our entry for the DRP Covered Business directory (§3.05.2), to send to the network operators."""
    from .protocol import EXERCISES, SPELLINGS

    actions = sorted({e for table in EXERCISES.values() for e in table} - set(SPELLINGS) - {"correction"})
    return {"id": getattr(settings, "DRP_BUSINESS_ID", ""), "name": settings.DSAR_CONTROLLERS["us"]["name"],
            "logo": None, "api_base": absolute_url("/"), "supported_actions": actions,
            "supported_verifications": ["email"], "web_url": absolute_url("/"),
            "technical_contact": settings.DSAR_TEAM_EMAIL, "business_contact": settings.DSAR_TEAM_EMAIL}


# --- agents --------------------------------------------------------------------------------------

@transaction.atomic
def register_agent(entry, user=None, actor: str | None = None) -> Agent:
    """Add (or update, e.g. a rotated key) an agent from its directory entry. A new key revokes
    the tokens issued under the old one."""
    P.validate_agent_entry(entry)
    contacts = [entry.get("business_contact", ""), entry.get("technical_contact", "")]
    if not any(_is_email(c) for c in contacts):
        raise ValueError("the entry needs a business_contact or technical_contact e-mail address: "
                         "an agent request names the agent's contact (filer = agent)")
    fields = dict(name=entry["name"], verify_key=entry["verify_key"], web_url=entry.get("web_url", ""),
                  identity_assurance_url=entry.get("identity_assurance_url", ""),
                  technical_contact=entry.get("technical_contact", ""),
                  business_contact=entry.get("business_contact", "") if _is_email(contacts[0]) else "",
                  directory_entry=entry, active=True)
    agent = Agent.objects.select_for_update().filter(agent_id=entry["id"]).first()
    if agent is None:
        agent = Agent.objects.create(agent_id=entry["id"], registered_by=user, **fields)
        configaudit.record(agent, "registered", user=user, actor=actor, fields=["agent_id", *fields])
        return agent
    before = configaudit.snapshot(agent, fields)
    revoked = 0
    if agent.verify_key != entry["verify_key"]:
        revoked, _ = agent.tokens.all().delete()
    for name, value in fields.items():
        setattr(agent, name, value)
    agent.save()
    changed = configaudit.changed(before, agent)
    if changed:
        configaudit.record(agent, "updated", user=user, actor=actor, fields=changed,
                           data={"pairings_ended": revoked} if revoked else None)
    return agent


def _is_email(value: str) -> bool:
    try:
        validate_email(value)
    except ValidationError:
        return False
    return True


@transaction.atomic
def remove_agent(agent_id: str, user=None, actor: str | None = None) -> Agent:
    """Deactivate: its tokens stop working, its requests and their history stay."""
    agent = Agent.objects.select_for_update().get(agent_id=agent_id)
    was_active = agent.active
    agent.active = False
    agent.save(update_fields=["active", "updated_at"])
    revoked, _ = agent.tokens.all().delete()
    if was_active or revoked:
        configaudit.record(agent, "removed", user=user, actor=actor, fields=["active"] if was_active else [],
                           data={"pairings_ended": revoked})
    return agent


TOKENS_KEPT = 5


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def pair(agent_id: str, body: bytes, now=None) -> dict:
    """§2.05: the URL's agent-id picks the directory key; the signed message must match it."""
    now = now or timezone.now()
    agent = Agent.objects.filter(agent_id=agent_id, active=True).first()
    signed = P.decode(body)
    if agent is None:
        raise P.DrpError(403, f"Unknown agent '{agent_id[:100]}'.")
    obj = P.verify(signed, agent.verify_key)
    P.check_claims(obj, agent_id=agent.agent_id, business_id=business_id(), now=now)
    token = base64.urlsafe_b64encode(nacl_random(32)).decode().rstrip("=")  # libsodium's CSPRNG (§2.05.1)
    with transaction.atomic():
        AgentToken.objects.create(agent=agent, token_hash=_hash(token))
        # Earlier tokens keep working (an agent's workers may pair at once), but only the last few.
        keep = agent.tokens.order_by("-pk").values_list("pk", flat=True)[:TOKENS_KEPT]
        agent.tokens.exclude(pk__in=list(keep)).delete()
    log.info("drp: token issued to agent %s", agent.agent_id)
    return {"agent-id": agent.agent_id, "token": token}


def agent_for(authorization: str) -> Agent | None:
    """The agent of an `Authorization: Bearer <token>` header, or None."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    row = AgentToken.objects.select_related("agent").filter(token_hash=_hash(token.strip()),
                                                             agent__active=True).first()
    if row is None:
        return None
    now = timezone.now()
    if row.last_used_at is None or (now - row.last_used_at).total_seconds() > 60:  # one write a minute at most
        AgentToken.objects.filter(pk=row.pk).update(last_used_at=now)
    return row.agent


# --- requests ------------------------------------------------------------------------------------

def signed_message(agent: Agent, body: bytes, *, required: bool = True, now=None) -> dict:
    """§3.07 in order: base64, signature with the token's agent key, agent-id, business-id, times."""
    signed = P.decode(body)
    obj = P.verify(signed, agent.verify_key)
    P.check_claims(obj, agent_id=agent.agent_id, business_id=business_id(), now=now or timezone.now(),
                   required=required)
    return obj


def file_request(agent: Agent, body: bytes, now=None) -> tuple[DrpRequest, bool]:
    """§2.01: validate, then file the case through the core submit_request. Returns the request
    and whether it is new: a replayed body, or an agent-request-id already used, returns the
    request filed the first time (an agent retrying after a timeout files nothing twice)."""
    obj = signed_message(agent, body, now=now)
    digest = hashlib.sha256(body.strip()).hexdigest()
    agent_request_id = obj.get("agent-request-id") or ""
    if not isinstance(agent_request_id, str) or len(agent_request_id) > 200:
        raise P.DrpError(400, "'agent-request-id' must be a string of at most 200 characters.")
    existing = _existing(agent, digest, agent_request_id)
    if existing:
        return existing, False
    claims = P.identity(obj)
    if not _is_email(claims["email"]):
        raise P.DrpError(400, "The 'email' identity claim is not a valid e-mail address.")
    target = P.target(obj.get("exercise"), obj.get("regime"), claims.get("address"))
    callback = obj.get("status_callback") or ""
    if callback and not _is_callback_url(callback):
        raise P.DrpError(400, "'status_callback' must be an https URL of at most 500 characters.")
    relationships = obj.get("relationships") or []
    if not isinstance(relationships, list) or not all(isinstance(r, str) for r in relationships):
        raise P.DrpError(400, "'relationships' must be a list of strings.")
    try:
        with transaction.atomic():
            drp = _file(agent, obj, body.strip(), digest, agent_request_id, claims, target, callback, relationships)
    except IntegrityError:  # the same request raced in twice: the first one stands
        existing = _existing(agent, digest, agent_request_id)
        if existing is None:
            raise
        return existing, False
    return drp, True


def _existing(agent, digest, agent_request_id) -> DrpRequest | None:
    # A replayed body carries its agent-request-id, so one lookup finds either kind of retry.
    lookup = {"agent": agent, "agent_request_id": agent_request_id} if agent_request_id else {"body_sha256": digest}
    found = DrpRequest.objects.select_related("case", "agent").filter(**lookup).first()
    if found is not None and found.agent_id != agent.pk:
        raise P.DrpError(403, "This request was filed by another agent.")
    return found


def _is_callback_url(url) -> bool:
    from urllib.parse import urlsplit

    if not isinstance(url, str) or len(url) > 500:
        return False
    parts = urlsplit(url)
    schemes = ("https",) if settings.DRP_CALLBACK_REQUIRE_HTTPS else ("https", "http")
    return parts.scheme in schemes and bool(parts.hostname)


def _file(agent, obj, body, digest, agent_request_id, claims, target, callback, relationships) -> DrpRequest:
    details = _details(agent, target, claims, relationships)
    try:
        (case,) = core.submit_request(
            jurisdiction=target.jurisdiction, request_types=[target.request_type],
            requester_name=(claims.get("name") or claims["email"]).strip()[:200], requester_email=claims["email"],
            phone=str(claims.get("phone_number") or "")[:40], details=details, filer=Filer.AGENT,
            agent_name=agent.name, agent_email=agent.contact_email, agent_organisation=agent.name,
            # The agent's signed request is its evidence of the consumer's permission (11 CCR §7063(a)).
            authorisation=Record(name="drp-signed-request.b64", content=body, content_type="text/plain"),
        )
    except (ValidationError, core.ServiceError) as exc:
        raise P.DrpError(400, _message(exc)) from None
    drp = DrpRequest(
        case=case, agent=agent, agent_request_id=agent_request_id, exercise=target.exercise,
        drp_regime=target.drp_regime, relationships=relationships, status_callback=callback, claims=claims,
        body_sha256=digest)
    drp.last_status = status_object(drp)
    drp.save()
    # Until the core has a channel field (intake), the audit trail records where it came from.
    core.record(case, "drp_received", actor_label=f"agent {agent.agent_id}"[:150],
                data={"channel": "drp", "agent_id": agent.agent_id, "request_id": str(drp.request_id),
                      "agent_request_id": agent_request_id, "exercise": obj.get("exercise"),
                      "regime": obj.get("regime") or "", "claims_verified": _verified(claims)})
    return drp


def _message(exc) -> str:
    if isinstance(exc, ValidationError) and hasattr(exc, "message_dict"):
        return "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
    return " ".join(getattr(exc, "messages", [str(exc)]))


def _verified(claims: dict) -> dict:
    return {k[:-len("_verified")]: claims[k] for k in claims if k.endswith("_verified")}


def _details(agent, target, claims, relationships) -> str:
    def flag(name):
        return "verified by the agent" if claims.get(f"{name}_verified") is True else "not verified by the agent"

    lines = [f"Filed through the Data Rights Protocol by {agent.name} ({agent.agent_id}): "
             f"'{target.exercise}' under {target.drp_regime}."]
    if target.exercise in P.EXERCISE_NOTES:
        lines.append(P.EXERCISE_NOTES[target.exercise])
    lines.append(f"E-mail: {flag('email')}.")
    if claims.get("phone_number"):
        lines.append(f"Phone: {flag('phone_number')}.")
    if claims.get("address"):
        lines.append(f"Address: {P.format_address(claims['address'])[:300]} ({flag('address')}).")
    if claims.get("power_of_attorney"):
        lines.append(f"Power of attorney (agent's reference): {str(claims['power_of_attorney'])[:300]}")
    if relationships:
        lines.append(f"Relationship hints: {', '.join(relationships)[:300]}.")
    return "\n".join(lines)


def find(agent: Agent, request_id) -> DrpRequest:
    """The request, if this agent manages it: §2.02 answers 403 to any other agent."""
    drp = DrpRequest.objects.select_related("case", "agent").filter(request_id=request_id).first()
    if drp is None:
        raise P.DrpError(404, "No such data rights request.")
    if drp.agent_id != agent.pk:
        raise P.DrpError(403, "This request is managed by another agent.")
    return drp


def revoke(agent: Agent, drp: DrpRequest, body: bytes, now=None) -> DrpRequest:
    """§2.04: revoke = withdraw through the core service. Revoking twice answers 'revoked' again."""
    obj = signed_message(agent, body, required=False, now=now)
    reason = obj.get("reason") or ""
    if not isinstance(reason, str):
        raise P.DrpError(400, "'reason' must be a string.")
    case = drp.case
    if case.state == State.WITHDRAWN:
        return drp
    if not case.is_open:
        raise P.DrpError(409, f"The request is already {status_object(drp)['status']}; it can no longer be revoked.")
    text = f"Revoked by the authorised agent {agent.name} ({agent.agent_id})" + (f": {reason[:1000]}" if reason else "")
    try:
        drp.case = core.withdraw(case, None, reason=text)
    except core.ServiceError as exc:
        raise P.DrpError(409, str(exc)) from None
    return drp


# --- the status object (§3.03) ---------------------------------------------------------------------

RESPONSE_CLOCKS = (R.RESPOND, R.DETERMINATION, R.EFFECTIVE)
# Our denial bases (selectors.DENIAL_BASES, 11 CCR §7102) -> the reasons of §3.02.
DENIAL_REASONS = {"unverifiable": "insuf_verification", "not_consumer": "outside_jurisdiction",
                  "exempt": "claim_not_covered", "other": "other"}
AWAITING_DETAILS = {Awaiting.IDENTITY: "We need the consumer to prove their identity.",
                    Awaiting.INFORMATION: "We need more information from the consumer.",
                    Awaiting.CLARIFICATION: "We need the consumer to clarify the request.",
                    Awaiting.FEE: "A fee is due before we can proceed."}


def _iso(moment) -> str:
    return moment.astimezone(dt.timezone.utc).isoformat().replace("+00:00", "Z")


def verification_url(drp) -> str:
    return absolute_url(reverse("drp:verify", args=[drp.request_id]))


def status_object(drp: DrpRequest) -> dict:
    """The Exercise Status object from our state machine."""
    case = drp.case
    body = {"request_id": str(drp.request_id), "received_at": _iso(case.received_at)}
    if drp.agent_request_id:
        body["agent_request_id"] = drp.agent_request_id
    status, reason, details = _state(case)
    body["status"] = status
    if reason:
        body["reason"] = reason
    clock = _response_clock(case)
    if clock is not None and status == "in_progress":
        # §3.08: expected_by is the regime's legal due date; an extension says why.
        body["expected_by"] = _iso(clock.due_at)
        if clock.extended and clock.extension_reason:
            details = " ".join(filter(None, [details, f"Extended: {clock.extension_reason}"]))
    if reason == "need_user_verification":
        body["user_verification_url"] = verification_url(drp)
    if details:
        body["processing_details"] = details[:1000]
    return body


def _response_clock(case):
    clocks = [d for d in case.deadlines.all() if d.kind in RESPONSE_CLOCKS and d.appeal_id is None]
    running = [d for d in clocks if d.status == DeadlineStatus.OPEN]
    return min(running, key=lambda d: d.due_at) if running else None


def _state(case) -> tuple[str, str, str]:
    state = case.state
    if state == State.SUBMITTED:
        return "in_progress", "need_user_verification", \
            "The consumer must confirm the request from the e-mail we sent them directly."
    if state == State.AWAITING_REQUESTER:
        return "in_progress", "need_user_verification", AWAITING_DETAILS.get(case.awaiting, "")
    if case.awaits_consumer_permission:  # 11 CCR §7063(a): the consumer confirms the agent directly
        return "in_progress", "need_user_verification", \
            "The consumer must confirm directly, from the e-mail we sent them, that they gave the agent permission."
    if state in (State.VERIFYING, State.IN_PROGRESS, State.ADMISSIBLE):
        return "in_progress", "", ""
    if state == State.FULFILLED:
        return "fulfilled", "", "The response was sent to the consumer directly."
    if state == State.PARTIALLY_FULFILLED:
        return "fulfilled", "", f"Partially fulfilled: {case.decision_reasons}"
    if state == State.WITHDRAWN:
        return "revoked", "", ""
    if state == State.NOT_FILED:
        # §3.02: the need_user_verification stage failed or timed out.
        return "denied", "insuf_verification", case.decision_reasons or "The consumer never confirmed the request."
    if state == State.INADMISSIBLE:
        return "denied", "claim_not_covered", case.decision_reasons
    if state == State.DENIED:
        basis = (case.decision or {}).get("basis", "other")
        reason = DENIAL_REASONS.get(basis, "other")
        if reason == "other" and case.is_repeat:
            reason = "too_many_requests"  # Cal. Civ. Code §1798.130(b): twice in 12 months
        return "denied", reason, case.decision_reasons
    return "in_progress", "", ""
