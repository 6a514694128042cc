"""DRP 1.0 covered-business endpoints (§2), the consumer's verification page, the GPC support
resource, and the staff page of registered agents.

The API views take no cookies (csrf_exempt): each authenticates by signature and bearer token.
Every refusal answers with the §3.06 error object, is logged, and writes nothing."""
from __future__ import annotations

import json
import logging

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from requests_app import ratelimit
from requests_app import services as core
from requests_app.models import State
from requests_app.outbox import queue_email
from requests_app.views.staff import _render, staff_required

from . import callbacks, services
from .forms import AgentEntryForm
from .models import Agent, DrpRequest
from .protocol import MAX_BODY_BYTES, DrpError, decode

log = logging.getLogger(__name__)


def _error(request, exc: DrpError, agent=None) -> JsonResponse:
    log.warning("DRP refused %s %s from %s (agent %s): %s %s", request.method, request.path,
                ratelimit.client_ip(request), getattr(agent, "agent_id", "-"), exc.status, exc.message)
    response = JsonResponse(exc.as_json(), status=exc.status)
    if exc.status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="drp"'
    return response


def _body(request) -> bytes:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > MAX_BODY_BYTES:
        raise DrpError(413, f"The body is larger than {MAX_BODY_BYTES} bytes.")
    body = request.body
    if len(body) > MAX_BODY_BYTES:
        raise DrpError(413, f"The body is larger than {MAX_BODY_BYTES} bytes.")
    return body


def _throttle(request) -> None:
    if not ratelimit.hit("drp", ratelimit.client_ip(request), settings.DRP_RATE_LIMIT):
        raise DrpError(429, "Too many requests; retry later.")


def _agent(request) -> Agent:
    agent = services.agent_for(request.META.get("HTTP_AUTHORIZATION", ""))
    if agent is None:
        raise DrpError(401, "A valid pair-wise bearer token is required (POST /v1/agent/{agent-id}).")
    return agent


@csrf_exempt
@never_cache
@require_http_methods(["GET", "POST"])
def agent(request, agent_id):
    if request.method == "GET":
        # §2.06: 200 {} when the token is this agent's; 403 otherwise.
        try:
            _throttle(request)
            found = services.agent_for(request.META.get("HTTP_AUTHORIZATION", ""))
            if found is None or found.agent_id != agent_id:
                raise DrpError(403, "The bearer token does not belong to this agent.")
        except DrpError as exc:
            return _error(request, exc)
        return JsonResponse({})
    try:
        _throttle(request)
        result = services.pair(agent_id, _body(request))
    except DrpError as exc:
        response = _error(request, exc)
        # §2.05.1: a failed validation is a 403 with no body; overload and set-up errors say what they are.
        return response if exc.status in (413, 429, 503) else HttpResponse(status=403)
    return JsonResponse(result)


@csrf_exempt
@never_cache
@require_http_methods(["POST"])
def exercise(request):
    agent = None
    try:
        _throttle(request)
        body = _body(request)
        decode(body)  # §3.07's first check, before the token names the key
        agent = _agent(request)
        drp, created = services.file_request(agent, body)
    except DrpError as exc:
        return _error(request, exc, agent)
    if not created:  # a retry: the request as it stands now
        return JsonResponse(services.status_object(drp))
    log.info("DRP request %s filed by agent %s as %s", drp.request_id, agent.agent_id, drp.case.reference)
    return JsonResponse(drp.last_status)


@csrf_exempt
@never_cache
@require_http_methods(["GET", "DELETE"])
def request_detail(request, request_id):
    agent = None
    try:
        _throttle(request)
        body = _body(request) if request.method == "DELETE" else b""
        if request.method == "DELETE":
            decode(body)
        agent = _agent(request)
        drp = services.find(agent, request_id)
        if request.method == "DELETE":
            drp = services.revoke(agent, drp, body)
            log.info("DRP request %s revoked by agent %s", drp.request_id, agent.agent_id)
    except DrpError as exc:
        return _error(request, exc, agent)
    return JsonResponse(services.status_object(drp))


@require_GET
def gpc(request):
    """The GPC support resource (GPC specification, §"well-known" resource)."""
    response = JsonResponse({"gpc": True, "lastUpdate": settings.GPC_LAST_UPDATE})
    response["Access-Control-Allow-Origin"] = "*"
    response["Cache-Control"] = "public, max-age=86400"
    return response


# --- the consumer's page (user_verification_url, §3.02.1) ----------------------------------------

@never_cache
@require_http_methods(["GET", "POST"])
def verify(request, request_id):
    """Where an agent sends the consumer when we need them: we never hand the agent the
    consumer's confirmation or status link (the agent's word never stands for the consumer's,
    11 CCR §7063); this page tells the consumer where we wrote and can send the link again to
    the address on file. §3.02.1: the request_id parameter, when given, must be this request."""
    drp = get_object_or_404(DrpRequest.objects.select_related("case", "agent"), request_id=request_id)
    given = request.GET.get("request_id")
    if given and given != str(drp.request_id):
        return render(request, "drp/verify.html", {"mismatch": True}, status=400)
    case = drp.case
    sent = False
    status = 200
    if request.method == "POST":
        if not ratelimit.allow(request, "drp-verify", email=case.requester_email):
            status = 429
        elif case.is_open:
            _send_link(case)
            sent = True
    return render(request, "drp/verify.html", {
        "drp": drp, "case": case, "email": _mask(case.requester_email), "sent": sent, "throttled": status == 429,
        "confirming": case.state == State.SUBMITTED}, status=status)


def _send_link(case) -> None:
    """To the consumer's own address only (the core's notify_requester copies the agent)."""
    extra = {"confirm_url": core.confirm_url(case), "batch": [case], "resent": True} \
        if case.state == State.SUBMITTED else {}
    kind = "confirm_email" if extra else "status_link"
    with transaction.atomic():
        if case.awaits_consumer_permission:  # the consumer's own confirmation of the agent comes first
            core.ask_consumer_permission_again(case)
        else:
            queue_email(kind, [case.requester_email], context=core._email_context(case, **extra),
                        language=case.language, case=case)


def _mask(email: str) -> str:
    local, _, domain = email.partition("@")
    return f"{local[:1]}{'•' * max(len(local) - 1, 1)}@{domain}"


# --- staff: registered agents --------------------------------------------------------------------

def _manager(user) -> None:
    if not user.has_perm("requests_app.assign_case"):
        raise PermissionDenied("Only a manager may register or remove DRP agents.")


@staff_required
@require_http_methods(["GET", "POST"])
def agents(request):
    form = AgentEntryForm()
    status = 200
    if request.method == "POST":
        _manager(request.user)
        form = AgentEntryForm(request.POST)
        if form.is_valid():
            try:
                added = services.register_agent(form.cleaned_data["entry"], user=request.user)
            except ValueError as exc:
                form.add_error("entry", str(exc))
            else:
                log.info("DRP agent %s registered by %s", added.agent_id, request.user.get_username())
                messages.success(request, f"Agent {added.agent_id} registered.")
                return redirect("drp:agents")
        status = 400
    counts = callbacks.summary_by_agent()
    rows = [(a, counts.get(a.pk, {})) for a in Agent.objects.all()]
    return _render(request, "drp/agents.html", {
        "rows": rows, "form": form, "business_id": getattr(settings, "DRP_BUSINESS_ID", ""),
        "business_entry": json.dumps(services.business_entry(), indent=2),
        "can_manage": request.user.has_perm("requests_app.assign_case")}, status=status)


@staff_required
@require_http_methods(["POST"])
def agent_remove(request, agent_id):
    _manager(request.user)
    get_object_or_404(Agent, agent_id=agent_id)
    services.remove_agent(agent_id, user=request.user)
    log.info("DRP agent %s removed by %s", agent_id, request.user.get_username())
    messages.success(request, f"Agent {agent_id} removed: its tokens no longer work; its requests stay.")
    return redirect("drp:agents")




@staff_required
@require_http_methods(["POST"])
def agent_retry(request, agent_id):
    _manager(request.user)
    found = get_object_or_404(Agent, agent_id=agent_id)
    count = callbacks.retry_failed(found, user=request.user)
    log.info("DRP callbacks of %s retried by %s: %s", agent_id, request.user.get_username(), count)
    messages.success(request, f"{count} status callback(s) to {agent_id} queued again.")
    return redirect("drp:agents")
