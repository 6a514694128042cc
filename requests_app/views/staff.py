"""The privacy team's UI: the queue, the case page and its actions, appeals, downloads, the
deadline calculator and the CCPA metrics.

Access: every page needs a staff role (analyst, manager or auditor, see roles.py); anonymous
users go to the login page, anyone else gets a 403 page that says why. What a user may *do*
comes from the model's django-fsm permissions (can_work, can_decide_appeal): the case page only
offers the transitions `get_available_user_state_transitions(user)` returns, and every POST is
checked again here and in the services. Every form carries the case version; a stale version
re-renders the form with what the user typed and a conflict message (HTTP 409).
"""
from __future__ import annotations

import csv
import functools
import io
from dataclasses import dataclass
from typing import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import FileResponse, Http404, HttpResponse, HttpResponseNotAllowed, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from .. import forms_staff as F
from .. import regimes as R
from .. import calculator_choices, configaudit, derivations, letters, selectors, services, staff_display
from ..deadlines import calculate
from ..models import (
    Appeal,
    AppealState,
    Attachment,
    DataSubjectRequest,
    DeadlineStatus,
    Letter,
    State,
    can_work,
)
from ..hooks import decision_blocked, queue_flags

# --- access ----------------------------------------------------------------------------------------

NO_ROLE = ("Your account has no privacy-team role (analyst, manager or auditor). "
           "Ask an administrator to add you to one.")


def role_label(user) -> str:
    if user.has_perm("requests_app.assign_case"):
        return "manager"
    if user.has_perm("requests_app.work_case"):
        return "analyst"
    if user.has_perm("requests_app.view_all_cases"):
        return "auditor"
    return ""


NAV = {"queue.html": "queue", "case.html": "queue", "calculator.html": "calculator", "metrics.html": "metrics",
       "config_audit.html": "config_audit"}


def _render(request, template, context, status=200):
    context = {**context, "role": role_label(request.user),
               "nav": context.get("nav") or NAV.get(template.rsplit("/", 1)[-1], "")}
    return render(request, template, context, status=status)


def staff_required(view):
    """Anonymous → login page; signed in without a staff role → 403 with a clear message."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not request.user.has_perm("requests_app.view_datasubjectrequest"):
            raise PermissionDenied(NO_ROLE)
        return view(request, *args, **kwargs)

    return wrapper


def _case_for(user, pk) -> DataSubjectRequest:
    case = get_object_or_404(DataSubjectRequest.objects.select_related("assignee"), pk=pk)
    if not selectors.can_see(user, case):
        owner = case.assignee.get_username() if case.assignee else "someone else"
        raise PermissionDenied(f"{case.reference} is assigned to {owner}. Analysts see their own cases and the "
                               "unassigned pool; ask a manager to reassign it if you need it.")
    return case


def _require_work(case, user) -> None:
    if not can_work(case, user):
        if not user.has_perm("requests_app.work_case"):
            raise PermissionDenied("Your role can read cases but not change them.")
        raise PermissionDenied(f"{case.reference} is not assigned to you: you can read it, but only its assignee "
                               "or a manager can act on it. Ask a manager to assign it to you.")


# --- the queue -------------------------------------------------------------------------------------


@require_GET
@staff_required
def queue(request):
    user = request.user
    staff = list(selectors.staff_choices())
    form = F.QueueFilterForm(request.GET, staff=staff)
    now = timezone.now()
    paginator = Paginator(selectors.QueueList(user, form.filters(), now), form.page_size)
    page = paginator.get_page(request.GET.get("page"))
    rows = selectors.decorate(page.object_list, now)
    flags = queue_flags([r.case_id for r in rows]) if rows else {}
    for r in rows:
        r.flags = flags.get(r.case_id, [])
    can_assign = user.has_perm("requests_app.assign_case")
    return _render(request, "requests_app/staff/queue.html", {
        "form": form,
        "page": page,
        "rows": rows,
        "summary": selectors.queue_summary(user, now),
        "due_soon_days": settings.DSAR_DUE_SOON_DAYS,
        "bulk_form": F.BulkAssignForm(staff=staff) if can_assign else None,
        "can_assign": can_assign,
        "filtered": any(v for k, v in request.GET.items() if k not in ("page", "per_page")),
        "now": now,
        # Per-row constants, resolved once rather than a hundred times in the loop.
        "case_prefix": reverse("staff:case", args=[0])[:-2],
        "t": {k: str(v) for k, v in ROW_TEXT.items()},
        "archive": form.filters().show == "closed",
        "nav": "archive" if form.filters().show == "closed" else "queue",
    })


ROW_TEXT = {
    "appeal": _("appeal"), "repeat": _("repeat"), "repeat_title": _("Third or later access request in 12 months"),
    "unassigned": _("unassigned"), "no_clock": _("no running clock"), "esc_title": _("Escalated by the deadline sweep"),
}


@require_POST
@staff_required
def bulk_assign(request):
    user = request.user
    if not user.has_perm("requests_app.assign_case"):
        raise PermissionDenied("Only a manager may assign cases.")
    staff = list(selectors.staff_choices())
    form = F.BulkAssignForm(request.POST, staff=staff)
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, {request.get_host()}, request.is_secure()):
        back = ""
    back = back or reverse("staff:queue")
    if not form.is_valid():
        for errors in form.errors.values():
            for e in errors:
                messages.error(request, e)
        return redirect(back)
    assignee = None if form.cleaned_data["assignee"] == "none" else next(
        u for u in staff if str(u.pk) == form.cleaned_data["assignee"])
    items = form.cleaned_data["items"]
    cases = DataSubjectRequest.objects.select_related("assignee").in_bulk([pk for pk, _ in items])
    done, stale = [], []
    for pk, version in items:
        case = cases.get(pk)
        if case is None:
            continue
        try:
            services.assign(case, user, assignee, expected_version=version)
            done.append(case.reference)
        except services.Conflict:
            stale.append(case.reference)
    who = assignee.get_username() if assignee else "nobody"
    if done:
        messages.success(request, f"Assigned {len(done)} case(s) to {who}: {', '.join(done[:10])}"
                                  f"{'…' if len(done) > 10 else ''}.")
    if stale:
        messages.error(request, f"Not assigned, because someone changed them after you loaded the queue: "
                                f"{', '.join(stale)}. Check them and try again.")
    return redirect(back)


# --- the case page ---------------------------------------------------------------------------------


@dataclass
class Action:
    """A step offered on the case page: its form, its button, the service it calls."""

    label: str
    form: type
    run: Callable  # (case, user, cleaned_data, form) -> message
    style: str = ""  # "", "danger", "secondary"
    form_kwargs: Callable | None = None  # (case, user, ctx) -> dict

    def make_form(self, case, user, data=None, files=None, ctx=None, name=""):
        kwargs = self.form_kwargs(case, user, ctx or {}) if self.form_kwargs else {}
        # One page holds many forms: give each its own element ids (the field names stay plain).
        return self.form(data, files, case=case, initial={"version": case.version},
                         auto_id=f"id_{name}_%s" if name else "id_%s", **kwargs)


def _upload(f) -> services.Upload | None:
    """The form's checked Upload (ReceiveReplyForm.clean_upload), named as the staff member's file."""
    if not f:
        return None
    return services.Upload(getattr(f, "name", "document"), f.content, f.content_type)


def _run_verify(case, user, d, form):
    services.verify_identity(case, user, method=d["method"], expected_version=d["version"])
    return "Identity verified."


def _run_request_information(case, user, d, form):
    services.request_information(case, user, what=d["what"], message=d["message"], expected_version=d["version"])
    return "Request for information sent to the requester."


def _run_receive_reply(case, user, d, form):
    if case.version != d["version"]:
        raise _stale(case)
    services.receive_reply(case, message=d["message"] or "(document received)", upload=_upload(d.get("upload")),
                           user=user, received_at=d["received_at"])
    return "The requester's answer is recorded."


def _decision(outcome):
    def run(case, user, d, form):
        kwargs = {"decision": form.decision(), "expected_version": d["version"]}
        if outcome in ("deny", "partially_fulfil"):
            kwargs["reasons"] = d["reasons"]
        getattr(services, outcome)(case, user, **kwargs)
        return {"fulfil": "Request fulfilled; the response letter is being issued.",
                "partially_fulfil": "Request partially fulfilled; the letter with the reasons is being issued.",
                "deny": "Request denied; the letter with the reasons is being issued."}[outcome]
    return run


def _run_determine(case, user, d, form):
    services.determine(case, user, admissible=d["admissible"], reasons=d.get("reasons", ""),
                       expected_version=d["version"])
    return "Determination communicated." if d["admissible"] else "Request determined inadmissible."


def _stale(case):
    return services.Conflict(f"{case.reference} was changed by someone else while you were editing (now: "
                             f"{case.get_state_display()}). Check the case; what you typed is kept below.")


def _latest_change(case) -> str:
    """Who changed the case last, so the second editor knows what to look at."""
    event = case.events.exclude(actor__isnull=True).order_by("-created_at", "-id").first()
    if event is None:
        return ""
    what = event.kind.replace("_", " ")
    return f" Latest change: {what} by {event.actor_label}, {event.created_at:%Y-%m-%d %H:%M} UTC."


def _run_withdraw(case, user, d, form):
    if case.version != d["version"]:
        raise _stale(case)
    services.withdraw(case, user, reason=d["reason"])
    return "Withdrawal recorded."


def _run_close_not_filed(case, user, d, form):
    if case.version != d["version"]:
        raise _stale(case)
    services.close_not_filed(case, reason=d["reason"], user=user)
    return "Closed as not filed."


def _run_extend(case, user, d, form):
    deadline = services.extend_deadline(case, user, reason=d["reason"], kind=d["kind"], expected_version=d["version"])
    return f"The {deadline.kind.replace('_', ' ')} clock is extended to {deadline.due_date:%a %d %b %Y}."


def _run_assign(case, user, d, form):
    staff = {str(u.pk): u for u in selectors.staff_choices()}
    assignee = staff.get(d["assignee"])
    services.assign(case, user, assignee, expected_version=d["version"])
    return f"Assigned to {assignee.get_username()}." if assignee else "Unassigned."


def _run_note(case, user, d, form):
    services.add_note(case, user, d["text"])
    return "Note added."


def _run_record_appeal(case, user, d, form):
    if case.version != d["version"]:
        raise _stale(case)
    services.file_appeal(case, statement=d["statement"], user=user, accept_late_reason=d.get("late_reason", ""),
                         received_at=d["received_at"])
    return "Appeal recorded; its clock is running."


def _staff_kwargs(case, user, ctx):
    if "staff" not in ctx:
        ctx["staff"] = list(selectors.staff_choices())
    return {"staff": ctx["staff"]}


def _extend_kwargs(case, user, ctx):
    return {"clocks": extendable_clocks(case)}


ACTIONS: dict[str, Action] = {
    "verify": Action("Verify identity", F.VerifyForm, _run_verify),
    "request_information": Action("Request information", F.RequestInformationForm, _run_request_information,
                                  "secondary"),
    "receive_reply": Action("Record the requester's answer", F.ReceiveReplyForm, _run_receive_reply),
    "determine": Action("Determine admissibility", F.DetermineForm, _run_determine),
    "fulfil": Action("Fulfil", F.DecisionForm, _decision("fulfil"),
                     form_kwargs=lambda c, u, x: {"outcome": "fulfil"}),
    "partially_fulfil": Action("Partially fulfil", F.DecisionForm, _decision("partially_fulfil"), "secondary",
                               form_kwargs=lambda c, u, x: {"outcome": "partially_fulfil"}),
    "deny": Action("Deny", F.DecisionForm, _decision("deny"), "danger",
                   form_kwargs=lambda c, u, x: {"outcome": "deny"}),
    "extend": Action("Extend a deadline", F.ExtendForm, _run_extend, "secondary", form_kwargs=_extend_kwargs),
    "assign": Action("Assign", F.AssignForm, _run_assign, "secondary", form_kwargs=_staff_kwargs),
    "withdraw": Action("Record withdrawal", F.WithdrawForm, _run_withdraw, "secondary"),
    "close_not_filed": Action("Close as not filed", F.CloseNotFiledForm, _run_close_not_filed, "danger"),
    "record_appeal": Action("Record an appeal", F.RecordAppealForm, _run_record_appeal, "secondary"),
    "note": Action("Add note", F.NoteForm, _run_note, "secondary"),
}

# django-fsm transition name → the action that performs it. confirm_email is the requester's.
TRANSITION_ACTIONS = {
    "verify": "verify", "request_information": "request_information", "receive_reply": "receive_reply",
    "determine_admissible": "determine", "determine_inadmissible": "determine", "fulfil": "fulfil",
    "partially_fulfil": "partially_fulfil", "deny": "deny", "withdraw": "withdraw",
    "close_not_filed": "close_not_filed",
}


def extendable_clocks(case) -> list:
    """Running clocks of the case (not its appeals) that the law lets us extend, once, before they expire."""
    now = timezone.now()
    out = []
    # One extension per request and clock kind (spec section 3), even across a restart.
    used = set(case.deadlines.filter(appeal__isnull=True, extended=True).values_list("kind", flat=True))
    for d in case.deadlines.filter(status=DeadlineStatus.OPEN, appeal__isnull=True, extended=False,
                                   paused_since__isnull=True, due_at__gte=now).exclude(kind__in=used):
        rule = case.regime_info.any_clock(d.kind, case.request_type)
        if rule is not None and rule.extended is not None and d.extended_due_date:
            out.append(d)
    return out


def available_actions(case, user) -> list[str]:
    """The actions this user may take on this case now."""
    if not can_work(case, user):
        return []
    names = []
    for t in case.get_available_user_state_transitions(user):
        action = TRANSITION_ACTIONS.get(t.name)
        if action and action not in names:
            names.append(action)
    if "request_information" in names and case.regime_info.may_request_information_once:
        # LFPDPPP (2025): missing information may be asked once, within 5 business days of receipt.
        window = case.deadlines.filter(kind=R.REQUEST_INFORMATION, status=DeadlineStatus.OPEN).first()
        if case.information_requested_at or window is None or window.due_at < timezone.now():
            names.remove("request_information")
    if case.is_open and user.has_perm("requests_app.extend_deadline") and extendable_clocks(case):
        names.append("extend")
    if case.is_open and user.has_perm("requests_app.assign_case"):
        names.append("assign")
    if (case.regime_info.has_appeals and case.state in services.APPEALABLE_STATES
            and not case.appeals.exists()):
        names.append("record_appeal")
    if decision_blocked(case):  # e.g. fulfilment tasks still open
        names = [n for n in names if n not in ("fulfil", "partially_fulfil")]
    names.append("note")
    order = list(ACTIONS)
    return sorted(names, key=order.index)


# --- appeals ---------------------------------------------------------------------------------------

def appeal_actions(appeal, user) -> list[str]:
    # Whoever decided the request (or is its assignee) may not decide its appeal (spec section 5).
    if not user.has_perm("requests_app.decide_appeal") or not appeal.is_open or services.took_part(appeal, user):
        return []
    names = [t.name for t in appeal.get_available_user_state_transitions(user)]
    out = []
    if "start_review" in names:
        out.append("start_review")
    if {"uphold", "reverse", "partially_reverse"} & set(names):
        out.append("decide")
    if appeal_extendable_clock(appeal) is not None and user.has_perm("requests_app.extend_deadline"):
        out.append("extend")
    return out


def appeal_extendable_clock(appeal):
    """Only the Colorado appeal decision can be extended (+60 days, C.R.S. 6-1-1306(3)(b))."""
    rule = appeal.case.regime_info.any_clock(R.APPEAL_RESPOND, appeal.case.request_type)
    if rule is None or rule.extended is None:
        return None
    return appeal.deadlines.filter(kind=R.APPEAL_RESPOND, status=DeadlineStatus.OPEN, extended=False,
                                   due_at__gte=timezone.now()).first()


def _appeal_form(name, appeal, data=None):
    initial = {"version": appeal.case.version, "appeal_version": appeal.version}
    cls = {"start_review": F.StartReviewForm, "decide": F.AppealDecisionForm, "extend": F.AppealExtendForm}[name]
    return cls(data, case=appeal.case, initial=initial, auto_id=f"id_appeal{appeal.pk}_{name}_%s")


APPEAL_LABELS = {"start_review": "Start review", "decide": "Decide the appeal", "extend": "Extend the appeal clock"}


# --- rendering -------------------------------------------------------------------------------------

def mask_email(email: str) -> str:
    """a***@example.com: enough to recognise, not enough to use."""
    if not email or "@" not in email:
        return "***" if email else ""
    local, domain = email.split("@", 1)
    return f"{local[:1]}***@{domain}"


def mask_text(value: str) -> str:
    if not value:
        return ""
    return " ".join(f"{part[:1]}{'*' * min(max(len(part) - 1, 2), 6)}" for part in value.split())


CLOCK_EVENTS = {"clock_started", "clock_closed", "clock_paused", "clock_resumed", "clock_restarted",
                "deadline_extended"}


def _case_context(request, case, *, bound: dict | None = None, conflict: str = "", revealed: dict | None = None,
                  lost_input: dict | None = None, preview: dict | None = None) -> dict:
    user = request.user
    now = timezone.now()
    events = list(case.events.all())
    for e in events:
        e.sentence = staff_display.event_sentence(e)
    deadlines = list(case.deadlines.all().order_by("appeal_id", "start_date", "id"))
    history: dict[tuple, list] = {}
    for e in events:
        if e.kind in CLOCK_EVENTS and e.data.get("clock"):
            history.setdefault((e.data["clock"], e.appeal_id), []).append(e)
    clocks = []
    explained = derivations.case_derivations(case, deadlines, events)
    for d in deadlines:
        unit = selectors.clock_unit(case.regime, case.request_type, d.kind)
        left = selectors.time_left(d.due_at, case.jurisdiction, unit, now)[1] if d.is_open else None
        clocks.append({"d": d, "label": staff_display.clock_label(d.kind), "unit": unit, "left": left,
                       "history": history.get((d.kind, d.appeal_id), []), "derivation": explained[d.pk],
                       "alert": selectors.alert_for(d.due_at, now) if d.is_open and d.is_obligation else "",
                       "rule": case.regime_info.any_clock(d.kind, case.request_type)})
    ctx_cache: dict = {}
    actions = []
    for name in available_actions(case, user):
        spec = ACTIONS[name]
        form = (bound or {}).get(name) or spec.make_form(case, user, ctx=ctx_cache, name=name)
        actions.append({"name": name, "label": spec.label, "style": spec.style, "form": form,
                        "open": name in (bound or {}), "decision": name in DECISIONS,
                        "previewed": bool(preview) and preview["action"] == name})
    appeals = []
    for appeal in case.appeals.all().select_related("decided_by"):
        appeal.case = case
        items = []
        for name in appeal_actions(appeal, user):
            form = (bound or {}).get(f"appeal{appeal.pk}:{name}") or _appeal_form(name, appeal)
            key = f"appeal{appeal.pk}:{name}"
            items.append({"name": name, "label": APPEAL_LABELS[name], "form": form, "open": key in (bound or {}),
                          "decision": name in DECISIONS, "form_id": f"form-appeal{appeal.pk}-{name}",
                          "previewed": bool(preview) and preview["action"] == key})
        appeals.append({"a": appeal, "actions": items,
                        "clocks": [c for c in clocks if c["d"].appeal_id == appeal.pk]})
    can_reveal = (user.has_perm("requests_app.reveal_requester")
                  and (can_work(case, user) or selectors.sees_all(user)))
    can_download = can_work(case, user) or selectors.sees_all(user)
    return {
        "case": case,
        "regime": case.regime_info,
        "jurisdiction": case.jurisdiction_info,
        "request_type": case.request_type_info,
        "masked": {"name": mask_text(case.requester_name), "email": mask_email(case.requester_email),
                   "phone": mask_text(case.phone), "account_id": mask_text(case.account_id),
                   "agent_email": mask_email(case.agent_email), "agent_name": mask_text(case.agent_name),
                   "agent_organisation": mask_text(case.agent_organisation)},
        "revealed": revealed,
        "can_reveal": can_reveal,
        "can_download": can_download,
        "read_only": not can_work(case, user),
        "actions": actions,
        "side_actions": [a for a in actions if a["name"] != "note"],
        "note_action": next((a for a in actions if a["name"] == "note"), None),
        "appeals": appeals,
        "case_clocks": [c for c in clocks if c["d"].appeal_id is None],
        "events": events,
        "notes": case.notes.select_related("author"),
        "attachments": case.attachments.all(),
        "letters": [(letter, staff_display.letter_label(letter.kind)) for letter in case.letters.all()],
        "notifications": [(n, staff_display.email_label(n.kind)) for n in case.notifications.all()],
        "decision_items": staff_display.decision_items(case.decision, case.regime),
        "conflict": conflict,
        "lost_input": lost_input,
        "preview": preview and {**preview, "form_id": "form-" + preview["action"].replace(":", "-")},
        "reveal_form": F.RevealForm(case=case, initial={"version": case.version}, auto_id="id_reveal_%s"),
        "now": now,
    }


@require_GET
@staff_required
def case_detail(request, pk):
    case = _case_for(request.user, pk)
    return _render(request, "requests_app/staff/case.html", _case_context(request, case))


def _apply_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def _refreshed_form_data(data: QueryDict, **updates) -> QueryDict:
    """The user's input, with the hidden versions moved to the current ones, so that after
    reading the conflict message they can resubmit deliberately without retyping."""
    fresh = data.copy()
    for key, value in updates.items():
        fresh[key] = str(value)
    return fresh


def _lost_input(request) -> dict:
    return {k: v for k, v in request.POST.items() if k not in ("csrfmiddlewaretoken", "version", "appeal_version")
            and v.strip()}


@require_POST
@staff_required
def case_action(request, pk, action):
    user = request.user
    case = _case_for(user, pk)
    spec = ACTIONS.get(action)
    if spec is None:
        raise Http404("No such action")
    _require_work(case, user)
    form = spec.make_form(case, user, request.POST, request.FILES, name=action)
    posted_version = request.POST.get("version", "")
    available = available_actions(case, user)
    # Notes are append-only and do not depend on the case's state: they never conflict.
    if action != "note" and posted_version.isdigit() and int(posted_version) != case.version:
        return _conflict(request, case, action, spec, _stale(case))
    if action not in available:
        raise PermissionDenied(f"'{spec.label}' is not available on {case.reference} while it is "
                               f"'{case.get_state_display()}', or not to your role.")
    preview = action in DECISIONS and bool(request.POST.get("preview"))
    if form.is_valid():
        try:
            if preview:
                html = preview_letter(case, lambda: spec.run(case, user, form.cleaned_data, form))
                if "data_json" in form.fields:  # uploaded files are not sent twice: carry what they held
                    form.data = _refreshed_form_data(request.POST, data_json=form.data_json())
                return _render(request, "requests_app/staff/case.html", _case_context(
                    request, DataSubjectRequest.objects.select_related("assignee").get(pk=case.pk),
                    bound={action: form}, preview={"action": action, "html": html,
                                                   "data_categories": len(form.cleaned_data.get("data") or {})}))
            message = spec.run(case, user, form.cleaned_data, form)
        except services.Conflict as exc:
            case.refresh_from_db()
            return _conflict(request, case, action, spec, exc)
        except ValidationError as exc:
            _apply_errors(form, exc)
        except services.ServiceError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, message)
            return redirect(reverse("staff:case", args=[case.pk]) + ("#notes" if action == "note" else ""))
    return _render(request, "requests_app/staff/case.html",
                   _case_context(request, case, bound={action: form}), status=400)


# Decisions issue an unchangeable letter: their forms show it rendered first ("preview"), and
# issue it only when the analyst confirms (a POST without "preview").
DECISIONS = ("fulfil", "partially_fulfil", "deny", "determine", "decide")


class _Preview(Exception):
    pass


def preview_letter(case, run) -> str:
    """The letter a decision would issue, as HTML with its stylesheet: the service runs in a
    transaction that is rolled back (its after-commit sends and signals are dropped with it)."""
    try:
        with transaction.atomic():
            newest = Letter.objects.filter(case_id=case.pk).order_by("-pk").values_list("pk", flat=True).first()
            run()
            letter = Letter.objects.filter(case_id=case.pk, pk__gt=newest or 0).order_by("-pk").first()
            html = letters.render_html(letter) if letter else ""
            raise _Preview(html)
    except _Preview as done:
        html = done.args[0]
    css = (settings.BASE_DIR / "templates" / "letters" / "letter.css").read_text()
    return html.replace("</head>", f"<style>{css}</style></head>", 1)


def _conflict(request, case, action, spec, exc):
    case = DataSubjectRequest.objects.select_related("assignee").get(pk=case.pk)
    bound = {}
    lost = None
    if action in available_actions(case, request.user):
        form = spec.make_form(case, request.user, _refreshed_form_data(request.POST, version=case.version),
                              ctx={}, name=action)
        form.is_valid()  # show the user's input as they typed it
        bound[action] = form
    else:
        lost = _lost_input(request)
    return _render(request, "requests_app/staff/case.html",
                   _case_context(request, case, bound=bound, conflict=str(exc) + _latest_change(case),
                                  lost_input=lost), status=409)


@require_POST
@staff_required
def appeal_action(request, pk, appeal_pk, action):
    user = request.user
    case = _case_for(user, pk)
    appeal = get_object_or_404(Appeal, pk=appeal_pk, case=case)
    appeal.case = case
    if action not in APPEAL_LABELS:
        raise Http404("No such action")
    if not user.has_perm("requests_app.decide_appeal"):
        raise PermissionDenied("Only a manager may review, decide or extend appeals.")
    form = _appeal_form(action, appeal, request.POST)
    key = f"appeal{appeal.pk}:{action}"
    stale = (request.POST.get("appeal_version", "") != str(appeal.version)
             or request.POST.get("version", "") != str(case.version))
    if stale:
        return _appeal_conflict(request, case, appeal, action, "This appeal or its case was changed by someone "
                                "else while you were editing. Check it; what you typed is kept below.")
    if action not in appeal_actions(appeal, user):
        raise PermissionDenied(f"'{APPEAL_LABELS[action]}' is not available on this appeal while it is "
                               f"'{appeal.get_state_display()}'.")
    if form.is_valid():
        d = form.cleaned_data
        try:
            if action == "start_review":
                services.start_appeal_review(appeal, user)
                message = "Appeal review started."
            elif action == "decide" and request.POST.get("preview"):
                html = preview_letter(case, lambda: services.decide_appeal(
                    appeal, user, outcome=d["outcome"], reasons=d["reasons"], expected_version=d["appeal_version"]))
                appeal.refresh_from_db()
                return _render(request, "requests_app/staff/case.html", _case_context(
                    request, DataSubjectRequest.objects.select_related("assignee").get(pk=case.pk),
                    bound={key: form}, preview={"action": key, "html": html}))
            elif action == "decide":
                services.decide_appeal(appeal, user, outcome=d["outcome"], reasons=d["reasons"],
                                       expected_version=d["appeal_version"])
                message = f"Appeal decided: {AppealState(d['outcome']).label}. The letter is being issued."
            else:
                deadline = services.extend_deadline(case, user, reason=d["reason"], kind=R.APPEAL_RESPOND,
                                                    appeal=appeal, expected_version=d["version"])
                message = f"The appeal decision is now due {deadline.due_date:%a %d %b %Y}."
        except services.Conflict as exc:
            return _appeal_conflict(request, case, appeal, action, str(exc))
        except ValidationError as exc:
            _apply_errors(form, exc)
        except services.ServiceError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, message)
            return redirect(reverse("staff:case", args=[case.pk]) + f"#appeal-{appeal.pk}")
    return _render(request, "requests_app/staff/case.html", _case_context(request, case, bound={key: form}),
                   status=400)


def _appeal_conflict(request, case, appeal, action, message):
    case = DataSubjectRequest.objects.select_related("assignee").get(pk=case.pk)
    appeal = Appeal.objects.get(pk=appeal.pk)
    appeal.case = case
    bound, lost = {}, None
    if action in appeal_actions(appeal, request.user):
        form = _appeal_form(action, appeal, _refreshed_form_data(request.POST, version=case.version,
                                                                 appeal_version=appeal.version))
        form.is_valid()
        bound[f"appeal{appeal.pk}:{action}"] = form
    else:
        lost = _lost_input(request)
    return _render(request, "requests_app/staff/case.html",
                   _case_context(request, case, bound=bound, conflict=message + _latest_change(case),
                                  lost_input=lost), status=409)


@staff_required
def reveal(request, pk):
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    case = _case_for(request.user, pk)
    revealed = services.reveal_requester(case, request.user)  # audited: Event 'requester_revealed'
    # The same audited reveal shows everything that identifies a person: the agent and free text too.
    revealed.update(agent_email=case.agent_email, agent_name=case.agent_name,
                    agent_organisation=case.agent_organisation, details=case.details,
                    data_description=case.data_description)
    return _render(request, "requests_app/staff/case.html", _case_context(request, case, revealed=revealed))


# --- downloads (permission-checked, audited) -----------------------------------------------------


def _require_download(case, user) -> None:
    if not (can_work(case, user) or selectors.sees_all(user)):
        raise PermissionDenied(f"Only the assignee of {case.reference}, managers and auditors may open its files.")


@require_GET
@staff_required
def attachment_download(request, pk):
    att = get_object_or_404(Attachment.objects.select_related("case", "case__assignee"), pk=pk)
    _require_download(att.case, request.user)
    services.record(att.case, "attachment_downloaded", user=request.user,
                    data={"attachment": att.pk, "sha256": att.sha256})
    return FileResponse(att.file.open("rb"), as_attachment=True, filename=att.original_name,
                        content_type=att.content_type)


@require_GET
@staff_required
def letter_download(request, pk, part: str = "pdf"):
    """An issued letter (part 'pdf') or the data sent with an access response ('json', 'csv').
    letters.open_for_download checks the SHA-256 and writes the audit event."""
    if part not in letters.PARTS:
        raise Http404("No such file.")
    letter = get_object_or_404(Letter.objects.select_related("case", "case__assignee"), pk=pk)
    _require_download(letter.case, request.user)
    try:
        download = letters.open_for_download(letter, actor_label=request.user.get_username(), user=request.user,
                                             part=part)
    except letters.LetterIntegrityError:
        messages.error(request, f"Letter {letter.pk} ({letter.kind}) was not served: the stored file no longer "
                                f"matches the SHA-256 recorded when it was issued ({letter.sha256[:12]}…). The "
                                "attempt is recorded as letter_integrity_failed. Restore the file from a backup, "
                                "or issue a correction.")
        return redirect("staff:case", pk=letter.case_id)
    except letters.LetterNotReady:
        raise Http404("This letter has not been issued yet, or has no such file.")
    response = FileResponse(io.BytesIO(download.content), as_attachment=True, filename=download.filename,
                            content_type=download.content_type)
    patch_cache_control(response, private=True, no_store=True)  # case files stay out of shared caches
    return response


# --- deadline calculator and metrics --------------------------------------------------------------


@require_GET
@staff_required
def calculator(request):
    form = F.CalculatorForm(request.GET or None)
    if "choose" in request.GET and not form.is_valid():
        # Without JavaScript: the jurisdiction was chosen; offer its request types, no errors yet.
        # (A complete form submitted with Enter, whose first button this is, still calculates.)
        form = F.CalculatorForm(initial=request.GET.dict())
    result = error = None
    if form.is_bound and form.is_valid():
        d = form.cleaned_data
        try:
            result = calculate(d["jurisdiction"], d["request_type"], d["received"],
                               decision_sent=d.get("decision_sent"), appeal_received=d.get("appeal_received"),
                               communicated=d.get("communicated"))
        except (R.RegimeError, ValueError) as exc:
            error = str(exc)
    rows = [{"name": name, "c": c, "x": derivations.Explained(c.derivation, True),
             "xe": derivations.Explained(c.extended_derivation, True) if c.extended_derivation else None}
            for name, c in (result["clocks"].items() if result else ())]
    return _render(request, "requests_app/staff/calculator.html", {
        "form": form, "result": result, "error": error, "rows": rows,
        "regime": R.regime(result["regime"]) if result else None,
        "command": form.command_line() if result else "",
        "calculator_data": calculator_choices.script_data(),
    })


BASIS_SHORT = {"unverifiable": "not verifiable", "not_consumer": "not a consumer", "exempt": "exempt",
               "other": "other grounds"}


@require_GET
@staff_required
def metrics(request):
    this_year = timezone.localdate().year
    try:
        year = int(request.GET.get("year") or this_year)  # the year in progress, not last year's zeros
    except ValueError:
        year = this_year
    if not 1 <= year <= 9998:  # a date must exist: year=-1 or 10000 would fail deep in the query
        year = this_year
    # Every year from the first CCPA request to this one (no gaps), whichever is chosen.
    first = min(selectors.ccpa_metric_years() + [year, this_year])
    years = list(range(max(year, this_year), first - 1, -1))
    rows = selectors.ccpa_metrics(year)
    bases = [(k, label, BASIS_SHORT[k]) for k, label in selectors.DENIAL_BASES.items()]
    if request.GET.get("format") == "csv":
        return _metrics_csv(year, rows, bases)
    return _render(request, "requests_app/staff/metrics.html", {
        "year": year, "years": years, "rows": rows, "bases": bases,
    })


def _metrics_csv(year, rows, bases) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="ccpa-metrics-{year}.csv"'
    writer = csv.writer(response, lineterminator="\r\n")
    writer.writerow(["year", "request type", "received", "complied in whole", "complied in part", "complied",
                     "denied", *[f"denied: {short}" for _k, _label, short in bases], "open",
                     "withdrawn or not filed", "median days", "mean days"])
    for r in rows:
        writer.writerow([year, r.label, r.received, r.complied_in_whole, r.complied_in_part, r.complied, r.denied,
                         *[r.denied_by_basis[k] for k, _label, _short in bases], r.open, r.other,
                         "" if r.median_days is None else r.median_days, "" if r.mean_days is None else r.mean_days])
    return response


# --- the configuration audit -----------------------------------------------------------------------

CONFIG_AUDIT_PAGE = 50


def _details(data: dict) -> list[tuple[str, str]]:
    def text(value):
        if isinstance(value, (list, tuple)):
            return ", ".join(text(v) for v in value)
        if isinstance(value, dict):
            return "; ".join(f"{k}: {text(v)}" for k, v in value.items())
        return "—" if value in (None, "") else str(value)  # e.g. an expiry that was not set
    return [(key.replace("_", " "), text(value)) for key, value in data.items()]


@require_GET
@staff_required
def config_audit(request):
    """Who changed which configuration, for managers and auditors (read-only; see configaudit.py)."""
    if not request.user.has_perm("requests_app.view_configchange"):
        raise PermissionDenied("The configuration audit is for managers and auditors.")
    types = [(t, configaudit.type_label(t)) for t in selectors.config_change_types()]
    chosen = request.GET.get("type", "")
    if chosen not in {t for t, _label in types}:
        chosen = ""
    page = Paginator(selectors.config_changes(chosen), CONFIG_AUDIT_PAGE).get_page(request.GET.get("page"))
    labels = dict(types)
    rows = [(entry, labels.get(entry.object_type, entry.object_type), _details(entry.data))
            for entry in page.object_list]
    return _render(request, "requests_app/staff/config_audit.html", {
        "page": page, "rows": rows, "types": types, "chosen": chosen})
