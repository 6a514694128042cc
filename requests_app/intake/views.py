"""Staff intake pages: "New request", the triage inbox, blocked senders.

Who: recording and triage need `work_case` (analysts and managers; auditors read the queue but
record nothing); blocking a sender needs `assign_case` (managers). Anonymous users get the login
page. The inbox shows senders masked; opening a message shows it whole and is audited (InboxEvent)."""
from __future__ import annotations

import functools

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from requests_app import services as core
from requests_app.models import DataSubjectRequest, State
from requests_app.views.staff import mask_email, role_label

from . import selectors, services
from .forms import AttachForm, BlockForm, DismissForm, LiftForm, NewRequestForm
from .models import BlockedSender, InboundMessage, InboxState


def _requires(perm: str, why: str):
    def decorator(view):
        @functools.wraps(view)
        def wrapper(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not request.user.has_perm(perm):
                raise PermissionDenied(why)
            return view(request, *args, **kwargs)
        return wrapper
    return decorator


intake_required = _requires("requests_app.work_case", "Recording requests and triaging the inbox is for analysts "
                                                      "and managers; your role can read cases but not create them.")
manager_required = _requires("requests_app.assign_case", "Only managers block or unblock senders.")


def _render(request, template, context, status=200):
    nav = "intake_new" if template == "new.html" else "intake"
    return render(request, f"intake/{template}", {**context, "role": role_label(request.user), "nav": nav},
                  status=status)


def _apply(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            for error in errors:
                form.add_error(field if field in form.fields else None, error)
    else:
        for message in exc.messages:
            form.add_error(None, message)


def _submit(request, form, message=None):
    """Run the one submit_request; on refusal keep everything typed and say why."""
    try:
        cases = services.record_request(request.user, message=message, **form.service_kwargs())
    except ValidationError as exc:
        _apply(form, exc)
    except core.ServiceError as exc:
        form.add_error(None, str(exc))
    else:
        refs = ", ".join(c.reference for c in cases)
        messages.success(request, f"Recorded {refs}; the clock counts from {cases[0].received_at:%Y-%m-%d %H:%M} UTC.")
        duplicates = [d.reference for c in cases
                      for d in services.open_duplicates(c.requester_email, c.request_type, exclude_batch=c.batch_id)]
        if duplicates:
            messages.warning(request, f"Likely duplicate of {', '.join(duplicates)}: the cases are linked.")
        return redirect(reverse("staff:case", args=[cases[0].pk]))
    return None


@intake_required
def new_request(request):
    form = NewRequestForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        response = _submit(request, form)
        if response:
            return response
    duplicates = _form_duplicates(form)
    return _render(request, "new.html", {"form": form, "duplicates": duplicates},
                   status=400 if request.method == "POST" else 200)


def _form_duplicates(form):
    if not form.is_bound or not hasattr(form, "cleaned_data"):
        return []
    email, types = form.cleaned_data.get("requester_email"), form.cleaned_data.get("request_types") or []
    return [c for c in services.open_duplicates(email) if c.request_type in types] if email else []


@intake_required
def inbox(request):
    state = request.GET.get("state", InboxState.NEW)
    if state not in InboxState.values:
        state = InboxState.NEW
    items = list(selectors.inbox(state)[:200])
    open_cases = selectors.open_cases_by_sender(m.from_email for m in items)
    rows = [{"m": m, "sender": mask_email(m.from_email) if m.from_email else "—",
             "duplicates": open_cases.get(m.from_email.upper(), [])} for m in items]
    return _render(request, "inbox.html", {"rows": rows, "state": state, "states": InboxState.choices})


def _message(public_id) -> InboundMessage:
    return get_object_or_404(InboundMessage.objects.select_related("thread_case"), public_id=public_id)


@intake_required
def message_detail(request, public_id, forms=None, status=200):
    m = _message(public_id)
    services.record_view(m, request.user)
    forms = forms or {}
    errors = [e for f in forms.values() for e in f.non_field_errors()]
    initial = {"requester_email": m.from_email, "requester_name": m.from_name, "details": m.text[:5000]}
    thread = m.thread_case
    return _render(request, "message.html", {
        "m": m, "thread": thread,
        "can_record_reply": thread is not None and thread.state == State.AWAITING_REQUESTER,
        "duplicates": list(services.open_duplicates(m.from_email)),
        "convert": forms.get("convert") or NewRequestForm(message=m, initial=initial),
        "attach": forms.get("attach") or AttachForm(initial={"reference": thread.reference if thread else ""}),
        "dismiss": forms.get("dismiss") or DismissForm(),
        "mx_source": services.MX_SOURCE, "errors": errors,
    }, status=status)


@intake_required
@require_POST
def message_action(request, public_id, action):
    m = _message(public_id)
    if action == "convert":
        form = NewRequestForm(request.POST, message=m)
        if form.is_valid():
            response = _submit(request, form, message=m)
            if response:
                return response
        return message_detail(request, public_id, forms={"convert": form}, status=400)
    if action in ("attach", "reply"):
        form = AttachForm(request.POST)
        if form.is_valid():
            case = DataSubjectRequest.objects.filter(reference__iexact=form.cleaned_data["reference"].strip()).first()
            if case is None:
                form.add_error("reference", "No case has this reference.")
            else:
                try:
                    if action == "reply":
                        services.record_reply(m, case, request.user)
                    else:
                        services.attach_to_case(m, case, request.user)
                except PermissionDenied as exc:
                    form.add_error(None, str(exc))
                except core.ServiceError as exc:
                    form.add_error(None, str(exc))
                else:
                    messages.success(request, f"The message is filed on {case.reference}.")
                    return redirect(reverse("staff:case", args=[case.pk]))
        return message_detail(request, public_id, forms={"attach": form}, status=400)
    if action == "dismiss":
        form = DismissForm(request.POST)
        if form.is_valid():
            try:
                services.dismiss(m, request.user, form.cleaned_data["reason"])
            except ValidationError as exc:
                _apply(form, exc)
            except core.ServiceError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, "Dismissed.")
                return redirect("intake:inbox")
        return message_detail(request, public_id, forms={"dismiss": form}, status=400)
    raise PermissionDenied("No such action")


@manager_required
def blocked(request):
    form = BlockForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.block_sender(request.user, form.cleaned_data["value"], form.cleaned_data["reason"])
        except ValidationError as exc:
            _apply(form, exc)
        else:
            messages.success(request, "Blocked: their mail now skips the inbox (it is still kept).")
            return redirect("intake:blocked")
    return _render(request, "blocked.html", {"form": form, "blocks": selectors.blocks()},
                   status=400 if request.method == "POST" else 200)


@manager_required
@require_POST
def lift(request, pk):
    block = get_object_or_404(BlockedSender, pk=pk)
    form = LiftForm(request.POST)
    form.is_valid()
    try:
        services.lift_block(request.user, block, form.cleaned_data.get("reason", ""))
    except core.ServiceError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"The block on {block.value} is lifted.")
    return redirect("intake:blocked")
