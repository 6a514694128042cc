"""The REST API (/api/v1/). Every write goes through requests_app.services and every read through
the selectors, with the staff UI's permission checks (views/staff.py): an analyst's key sees its
own cases and the unassigned pool and acts only on its own cases; an auditor's key reads only."""
from __future__ import annotations

import base64
import binascii
import datetime as dt
import inspect

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Prefetch
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from .. import regimes as R
from .. import selectors, services, uploads
from ..ratelimit import client_ip
from ..deadlines import calculate_json
from ..models import Appeal, AppealState, DataSubjectRequest, Deadline, Event, State
from ..views import staff
from . import serializers as S
from .errors import ApiError
from .models import ApiKey
from .pagination import KeysetPagination
from .services import record_use

MAX_ID = 2 ** 63 - 1
EARLIEST = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)


class StaffRole(BasePermission):
    message = staff.NO_ROLE

    def has_permission(self, request, view):
        return request.user.is_authenticated and request.user.has_perm("requests_app.view_datasubjectrequest")


class ApiView(APIView):
    """Every response to a key's request is written to that key's audit log."""

    permission_classes = [StaffRole]

    def initial(self, request, *args, **kwargs):
        # DRF's parsers read the stream without Django's DATA_UPLOAD_MAX_MEMORY_SIZE check.
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
            raise ApiError(f"The body is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE // 2 ** 20} MB.",
                           "too_large", 413)
        super().initial(request, *args, **kwargs)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        key = getattr(request, "_auth", None)
        if isinstance(key, ApiKey):
            record_use(key, method=request.method, path=request.path, status=response.status_code,
                       ip=client_ip(request))
        return response


def _id(value) -> int:
    if int(value) > MAX_ID:
        raise Http404("No such case.")
    return int(value)


def _case(user, pk) -> DataSubjectRequest:
    return staff._case_for(user, _id(pk))  # 404, or 403 with the UI's explanation


def _upload(data: dict | None, purpose: str):
    if not data:
        return None
    try:
        content = base64.b64decode(data["content_base64"], validate=True)
    except (binascii.Error, ValueError):
        raise ApiError("content_base64 is not valid base64.", "invalid") from None
    return uploads.check_upload(SimpleUploadedFile(data["name"], content), purpose)


def _check_arrival(value):
    if value is not None and not (EARLIEST <= value <= timezone.now() + dt.timedelta(minutes=5)):
        raise ApiError("An arrival time must lie between 2000 and now.", "invalid")
    return value


def _with_arrival(fn, kwargs: dict, received_at):
    """Services take the arrival moment as `received_at` (contract with the 'legal' branch);
    until a service does, a given arrival time is refused rather than silently dropped."""
    if received_at is not None:
        if "received_at" not in inspect.signature(fn).parameters:
            raise ApiError("This server does not record arrival times for this action yet; omit received_at.",
                           "unsupported")
        kwargs["received_at"] = _check_arrival(received_at)
    return fn(**kwargs)


def _detail_queryset():
    return DataSubjectRequest.objects.select_related("assignee").prefetch_related(
        Prefetch("deadlines", Deadline.objects.order_by("appeal_id", "start_date", "id")),
        "events", "letters", "appeals")


def _detail(case, request, status=200, revealed=None):
    case = _detail_queryset().get(pk=case.pk)
    return Response(S.CaseDetailSerializer(case, context={"request": request, "revealed": revealed}).data,
                    status=status)


@csrf_exempt  # it changes nothing: a POST to an unknown path gets the same JSON 404
def not_found(request, *args, **kwargs):
    return JsonResponse({"code": "not_found", "message": f"No API resource at {request.path}."}, status=404)


# --- requests -----------------------------------------------------------------------------------------

class RequestFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["open", "closed", "all"], default="open",
                                     help_text="open (the queue), closed, or all")
    q = serializers.CharField(required=False, max_length=200, help_text="E-mail, @domain, reference or name")
    regime = serializers.ChoiceField(choices=sorted(R.REGIMES), required=False)
    request_type = serializers.CharField(required=False, max_length=40)
    state = serializers.ChoiceField(choices=list(State.values) + [f"appeal:{s}" for s in AppealState.values],
                                    required=False)
    assignee = serializers.CharField(required=False, max_length=150, help_text="A username, or 'none'")
    due_within = serializers.IntegerField(required=False, min_value=0, max_value=3650,
                                          help_text="Days from now (overdue included)")
    overdue = serializers.BooleanField(required=False, default=False)
    repeat = serializers.BooleanField(required=False, default=False)
    mine = serializers.BooleanField(required=False, default=False)


# The 'intake' branch adds `channel` and `recorded_by` to submit_request (the branches' contract).
SUBMIT_TAKES_CHANNEL = "channel" in inspect.signature(services.submit_request).parameters


class RequestList(ApiView):
    pagination_class = KeysetPagination
    cursor_fields = ("next_due_at", "pk")

    @extend_schema(operation_id="requests_list", parameters=[RequestFilterSerializer],
                   responses=S.CaseSerializer(many=True))
    def get(self, request):
        params = RequestFilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        p = params.validated_data
        assignee = p.get("assignee", "")
        if assignee and assignee != "none":
            user = get_user_model().objects.filter(username=assignee).only("pk").first()
            if user is None:
                raise ApiError(f"No user '{assignee}'.", "invalid")
            assignee = str(user.pk)
        filters = selectors.QueueFilters(q=p.get("q", ""), regime=p.get("regime", ""),
                                         request_type=p.get("request_type", ""), state=p.get("state", ""),
                                         assignee=assignee, due_within=p.get("due_within"), overdue=p["overdue"],
                                         repeat=p["repeat"], mine=p["mine"])
        qs = selectors.case_list(request.user, filters, status=p["status"]).select_related("assignee")
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response(S.CaseSerializer(page, many=True).data)

    @extend_schema(operation_id="requests_create", request=S.SubmitSerializer,
                   responses={201: S.CaseSerializer(many=True)})
    def post(self, request):
        """File a request as the public form does: one case per request type, clocks started, the
        confirmation e-mail queued. Needs a role that works cases."""
        if not request.user.has_perm("requests_app.work_case"):
            raise PermissionDenied("Your role can read cases but not file them.")
        ser = S.SubmitSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        d = dict(ser.validated_data)
        d["authorisation"] = _upload(d.pop("authorisation", None), "authorisation")
        d["received_at"] = _check_arrival(d.get("received_at"))
        if SUBMIT_TAKES_CHANNEL:
            cases = services.submit_request(**d, channel="api", recorded_by=request.user)
        else:
            cases = services.submit_request(**d)
            for case in cases:  # the channel, until submit_request records it (contract with 'intake')
                services.record(case, "received_via", user=request.user, data={"channel": "api"})
        return Response(S.CaseSerializer(cases, many=True).data, status=201)


class RequestDetail(ApiView):
    @extend_schema(operation_id="requests_retrieve", responses=S.CaseDetailSerializer, parameters=[
        OpenApiParameter("reveal", bool, description="Show the requester's details unmasked (audited)")])
    def get(self, request, pk):
        case = _case(request.user, pk)
        revealed = None
        if request.query_params.get("reveal", "").lower() in ("1", "true", "yes"):
            revealed = services.reveal_requester(case, request.user)  # permission-checked, audited
        return _detail(case, request, revealed=revealed)


# --- the staff actions --------------------------------------------------------------------------------

def _decide(outcome):
    def run(case, user, d):
        kwargs = {"decision": d.get("decision") or {}, "expected_version": d.get("version")}
        if outcome != "fulfil":
            kwargs["reasons"] = d["reasons"]
        return getattr(services, outcome)(case, user, **kwargs)
    return run


def _receive_reply(case, user, d):
    upload = _upload(d.get("upload"), "information")
    return _with_arrival(services.receive_reply, {"case": case, "message": d["message"] or "(document received)",
                                                  "upload": upload, "user": user}, d.get("received_at"))


def _assign(case, user, d):
    assignee = None
    if d["assignee"]:
        assignee = selectors.staff_choices().filter(username=d["assignee"]).first()
        if assignee is None:
            raise ApiError(f"'{d['assignee']}' is not an active user who may work cases.", "invalid")
    return services.assign(case, user, assignee, expected_version=d.get("version"))


def _record_appeal(case, user, d):
    return _with_arrival(services.file_appeal, {"case": case, "statement": d["statement"], "user": user,
                                                "accept_late_reason": d["late_reason"]}, d.get("received_at"))


# The UI's action name (views/staff.ACTIONS) → (body, service call). The URL uses dashes.
CASE_ACTIONS = {
    "verify": (S.VerifySerializer, lambda c, u, d: services.verify_identity(
        c, u, method=d["method"], expected_version=d.get("version"))),
    "request_information": (S.RequestInformationSerializer, lambda c, u, d: services.request_information(
        c, u, what=d["what"], message=d["message"], expected_version=d.get("version"))),
    "receive_reply": (S.ReceiveReplySerializer, _receive_reply),
    "determine": (S.DetermineSerializer, lambda c, u, d: services.determine(
        c, u, admissible=d["admissible"], reasons=d["reasons"], expected_version=d.get("version"))),
    "fulfil": (S.DecisionSerializer, _decide("fulfil")),
    "partially_fulfil": (S.RefusalSerializer, _decide("partially_fulfil")),
    "deny": (S.RefusalSerializer, _decide("deny")),
    "extend": (S.ExtendSerializer, lambda c, u, d: services.extend_deadline(
        c, u, reason=d["reason"], kind=d.get("kind"), expected_version=d.get("version"))),
    "assign": (S.AssignSerializer, _assign),
    "withdraw": (S.ReasonSerializer, lambda c, u, d: services.withdraw(c, u, reason=d["reason"])),
    "close_not_filed": (S.ReasonSerializer, lambda c, u, d: services.close_not_filed(
        c, reason=d["reason"] or "Closed as not filed by staff", user=u)),
    "record_appeal": (S.RecordAppealSerializer, _record_appeal),
    "note": (S.NoteSerializer, lambda c, u, d: services.add_note(c, u, d["text"])),
}
ROLE_PERMS = {"assign": "requests_app.assign_case", "extend": "requests_app.extend_deadline"}


class CaseAction(ApiView):
    action_name = ""

    def post(self, request, pk):
        user = request.user
        case = _case(user, pk)
        staff._require_work(case, user)  # 403: read-only role, or another analyst's case
        name = self.action_name
        if name not in staff.available_actions(case, user):
            if name in ROLE_PERMS and not user.has_perm(ROLE_PERMS[name]):
                raise PermissionDenied(f"Your role may not {name} cases.")
            raise ApiError(f"'{staff.ACTIONS[name].label}' is not available on {case.reference} while it is "
                           f"'{case.get_state_display()}'.", "not_available", 409)
        body, run = CASE_ACTIONS[name]
        ser = body(data=request.data)
        ser.is_valid(raise_exception=True)
        d = ser.validated_data
        if d.get("version") is not None and d["version"] != case.version:
            raise staff._stale(case)
        run(case, user, d)
        return _detail(case, request)


def _action_view(name: str):
    body = CASE_ACTIONS[name][0]
    doc = f"{staff.ACTIONS[name].label}, as on the staff case page (same permissions, same service)."
    def post(self, request, pk):
        return CaseAction.post(self, request, pk)

    post = extend_schema(operation_id=f"requests_{name}", request=body, responses=S.CaseDetailSerializer,
                         description=doc)(post)
    return type(f"Case_{name}", (CaseAction,), {"action_name": name, "__doc__": doc, "post": post}).as_view()


APPEAL_ACTIONS = {
    "start_review": (S.EmptySerializer, lambda case, appeal, u, d: services.start_appeal_review(appeal, u)),
    "decide": (S.AppealDecisionSerializer, lambda case, appeal, u, d: services.decide_appeal(
        appeal, u, outcome=d["outcome"], reasons=d["reasons"], expected_version=d.get("appeal_version"))),
    "extend": (S.AppealExtendSerializer, lambda case, appeal, u, d: services.extend_deadline(
        case, u, reason=d["reason"], kind=R.APPEAL_RESPOND, appeal=appeal, expected_version=d.get("version"))),
}


class AppealAction(ApiView):
    action_name = ""

    def post(self, request, pk, appeal_pk):
        user = request.user
        case = _case(user, pk)
        appeal = get_object_or_404(Appeal, pk=_id(appeal_pk), case=case)
        appeal.case = case
        if not user.has_perm("requests_app.decide_appeal"):
            raise PermissionDenied("Only a manager may review, decide or extend appeals.")
        name = self.action_name
        if name not in staff.appeal_actions(appeal, user):
            raise ApiError(f"'{staff.APPEAL_LABELS[name]}' is not available on this appeal while it is "
                           f"'{appeal.get_state_display()}'.", "not_available", 409)
        body, run = APPEAL_ACTIONS[name]
        ser = body(data=request.data)
        ser.is_valid(raise_exception=True)
        run(case, appeal, user, ser.validated_data)
        return _detail(case, request)


def _appeal_view(name: str):
    body = APPEAL_ACTIONS[name][0]
    def post(self, request, pk, appeal_pk):
        return AppealAction.post(self, request, pk, appeal_pk)

    post = extend_schema(operation_id=f"appeals_{name}", request=body, responses=S.CaseDetailSerializer,
                         description=f"{staff.APPEAL_LABELS[name]} (managers).")(post)
    return type(f"Appeal_{name}", (AppealAction,), {"action_name": name, "post": post}).as_view()


# --- events since a cursor ------------------------------------------------------------------------

class EventList(ApiView):
    """The audit trail of the cases you may see, oldest first, for sync: keep the last
    `next_cursor` and ask again later. Events younger than API_EVENTS_SETTLE_SECONDS are held back,
    so one committed late by a longer transaction (ids are taken at insert, not at commit) is not
    skipped by a cursor that moved past it."""

    pagination_class = KeysetPagination
    cursor_fields = ("pk",)

    @extend_schema(operation_id="events_list", responses=S.EventSerializer(many=True), parameters=[
        OpenApiParameter("case", int, description="Only this case's events")])
    def get(self, request):
        settle = dt.timedelta(seconds=getattr(settings, "API_EVENTS_SETTLE_SECONDS", 5))
        qs = (Event.objects.filter(selectors.case_scope(request.user, "case__"),
                                   created_at__lte=timezone.now() - settle)
              .select_related("case").order_by("pk"))
        case = request.query_params.get("case")
        if case:
            if not case.isdigit():
                raise ApiError("case must be a case id.", "invalid")
            qs = qs.filter(case_id=_id(case))
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response(S.EventSerializer(page, many=True).data)


# --- calculator and metrics --------------------------------------------------------------------------

class Calculator(ApiView):
    @extend_schema(operation_id="calculator", parameters=[S.CalculatorQuerySerializer],
                   responses=S.CalculatorSerializer)
    def get(self, request):
        """Every clock of a request, as `manage.py dsar_deadlines --json` and the staff calculator."""
        ser = S.CalculatorQuerySerializer(data=request.query_params)
        ser.is_valid(raise_exception=True)
        d = ser.validated_data
        try:
            result = calculate_json(d["jurisdiction"], d["request_type"], d["received"],
                                    decision_sent=d.get("decision_sent"), appeal_received=d.get("appeal_received"),
                                    communicated=d.get("communicated"))
        except (R.RegimeError, ValueError) as exc:
            raise ApiError(str(exc), "invalid") from None
        return Response(result)


class Metrics(ApiView):
    @extend_schema(operation_id="metrics_ccpa", parameters=[S.MetricsQuerySerializer], responses=S.MetricsSerializer)
    def get(self, request):
        """The CCPA figures a business must publish each year (11 CCR §7102), for requests received
        in `year` (default: last year)."""
        ser = S.MetricsQuerySerializer(data=request.query_params)
        ser.is_valid(raise_exception=True)
        year = ser.validated_data.get("year") or timezone.now().year - 1
        rows = selectors.ccpa_metrics(year)
        return Response(S.MetricsSerializer({"year": year, "source": "11 CCR §7102", "rows": rows}).data)
