"""Staff pages (my tasks, a task, the data map, the case-page actions, the package preview), the
vendor's answer page (no account: a signed, expiring, single-use link), and the requester's
package download (status link + one-time code by e-mail)."""
from __future__ import annotations

import datetime as dt
import io

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_http_methods, require_POST

from requests_app import ratelimit
from requests_app.selectors import staff_choices
from requests_app import services as core
from requests_app.tokens import STATUS, BadToken, read_token
from requests_app.views.public import bad_link, private_page, use_case_language
from requests_app.views.staff import _case_for, mask_email, mask_text, role_label, staff_required

from . import selectors, services, texts
from .forms import AnswerForm, CodeForm, DataSystemForm, OverrideForm
from .models import DataSystem, Task

# --- staff ----------------------------------------------------------------------------------------


def _render(request, template, context, status=200):
    nav = context.pop("nav_override", "")
    return render(request, template, {**context, "role": role_label(request.user), "nav": nav}, status=status)


@staff_required
def my_tasks(request):
    open_, done = selectors.my_tasks(request.user)
    return _render(request, "fulfilment/my_tasks.html", {"open_tasks": open_, "done_tasks": done,
                                                         "now": timezone.now(), "nav_override": "tasks"})


def _task_for(user, pk) -> Task:
    task = get_object_or_404(Task.objects.select_related("case", "case__assignee", "system", "assignee"), pk=pk)
    if task.assignee_id != user.pk:
        _case_for(user, task.case_id)  # others see it where they may see the case
    return task


def _task_page(request, task, form=None, revealed=None, status=200):
    case = task.case
    return _render(request, "fulfilment/task.html", {
        "task": task, "case": case, "files": list(task.files.all()),
        "form": form or AnswerForm(task=task),
        "may_answer": services.may_answer(task, request.user),
        "masked": {"name": mask_text(case.requester_name), "email": mask_email(case.requester_email),
                   "account_id": mask_text(case.account_id)},
        "revealed": revealed, "nav_override": "tasks",
        "staff": list(staff_choices()) if request.user.has_perm("requests_app.assign_case") else []},
        status=status)


@require_http_methods(["GET", "POST"])
@staff_required
def task_detail(request, pk):
    task = _task_for(request.user, pk)
    if request.method == "GET":
        return _task_page(request, task)
    if not services.may_answer(task, request.user):
        services.deny_audited(task, request.user, "record the result of")
    form = AnswerForm(request.POST, request.FILES, task=task)
    if form.is_valid():
        d = form.cleaned_data
        try:
            services.answer_task(task, services.Answer(
                outcome=d["outcome"], export=d.get("export"), records_affected=d.get("records_affected"),
                note=d.get("note", ""), reason_code=d.get("reason_code", ""), reason=d.get("reason", "")),
                user=request.user)
        except core.ServiceError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"Recorded: {task.system.name} for {task.case.reference}.")
            return redirect("fulfilment:task", pk=task.pk)
    return _task_page(request, task, form=form, status=400)


@require_POST
@staff_required
def task_reveal(request, pk):
    task = _task_for(request.user, pk)
    return _task_page(request, task, revealed=services.reveal_for_task(task, request.user))


@require_POST
@staff_required
def task_reopen(request, pk):
    task = _task_for(request.user, pk)
    try:
        services.reopen_task(task, request.user, request.POST.get("reason", ""))
        messages.success(request, "Task reopened.")
    except core.ServiceError as exc:
        messages.error(request, str(exc))
    return redirect("fulfilment:task", pk=task.pk)


@require_POST
@staff_required
def task_vendor_link(request, pk):
    task = _task_for(request.user, pk)
    if not services.may_answer(task, request.user):
        services.deny_audited(task, request.user, "send the vendor link of")
    if not task.is_open or task.system.work_mode != DataSystem.WorkMode.VENDOR:
        messages.error(request, "Only an open task of a vendor-worked system has a vendor link.")
    else:
        services.send_vendor_link(task, user=request.user)
        messages.success(request, f"A new link was sent to {task.system.vendor_email}; the previous one no longer works.")
    return redirect("fulfilment:task", pk=task.pk)


@require_POST
@staff_required
def task_reassign(request, pk):
    task = _task_for(request.user, pk)
    staff = {str(u.pk): u for u in staff_choices()}
    choice = request.POST.get("assignee", "")
    if choice not in staff and choice != "none":
        messages.error(request, "Choose a staff member.")
    else:
        services.reassign_task(task, request.user, staff.get(choice))
        messages.success(request, "Task reassigned.")
    return redirect("fulfilment:task", pk=task.pk)


def _require_manager(user):
    if not user.has_perm("requests_app.assign_case"):
        raise PermissionDenied("Only managers keep the data map.")


@staff_required
def systems(request):
    rows = list(DataSystem.objects.select_related("owner"))
    return _render(request, "fulfilment/systems.html", {"systems": rows, "nav_override": "systems",
                                                        "can_edit": request.user.has_perm("requests_app.assign_case")})


@require_http_methods(["GET", "POST"])
@staff_required
def system_edit(request, pk=None):
    _require_manager(request.user)
    instance = get_object_or_404(DataSystem, pk=pk) if pk else None
    form = DataSystemForm(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        system = services.save_system(form.instance, request.user)
        messages.success(request, f"Saved {system.name}.")
        return redirect("fulfilment:systems")
    return _render(request, "fulfilment/system_form.html", {"form": form, "system": instance,
                                                            "nav_override": "systems"},
                   status=400 if form.is_bound else 200)


@require_POST
@staff_required
def allow_decision(request, pk):
    case = _case_for(request.user, pk)
    form = OverrideForm(request.POST)
    if form.is_valid():
        try:
            services.allow_decision_with_open_tasks(case, request.user, form.cleaned_data["reason"])
            messages.success(request, "The decision may now be issued with tasks open; the reason is recorded.")
        except core.ServiceError as exc:
            messages.error(request, str(exc))
    else:
        messages.error(request, "Write why the decision cannot wait for the open tasks.")
    return redirect(reverse("staff:case", args=[case.pk]) + "#fulfilment")


def _zip_response(content: bytes, filename: str):
    response = FileResponse(io.BytesIO(content), as_attachment=True, filename=filename,
                            content_type="application/zip")
    patch_cache_control(response, private=True, no_store=True)
    return response


@staff_required
def package_preview(request, pk):
    """The package as it would be issued now (before the decision), or the issued one after it."""
    case = _case_for(request.user, pk)
    from requests_app.models import can_work

    if not (can_work(case, request.user) or request.user.has_perm("requests_app.view_all_cases")):
        raise PermissionDenied("Only the case's assignee, managers and auditors may open its data.")
    package = selectors.latest_package(case)
    if package is not None and not case.is_open:
        try:
            content = services.read_package(package)
        except services.PackageUnavailable as exc:
            messages.error(request, str(exc))
            return redirect("staff:case", pk=case.pk)
        core.record(case, "package_opened", user=request.user, data={"sha256": package.sha256})
        return _zip_response(content, package.filename)
    content, manifest = services.build_package(case)
    import hashlib

    core.record(case, "package_previewed", user=request.user,
                data={"sha256": hashlib.sha256(content).hexdigest(), "systems": len(manifest["systems"])})
    return _zip_response(content, f"{case.reference}-data-preview.zip")


# --- the vendor's page ------------------------------------------------------------------------------


VENDOR_ERRORS = {
    "expired": ("This link has expired", "Links to answer a request work for a limited time. Ask the privacy "
                                         "team that wrote to you for a new one.", 410),
    "used": ("This link was already used", "An answer was already given through this link, or a newer link "
                                           "replaced it. Nothing more is needed from this link.", 410),
    "invalid": ("This link is not valid", "The link may be incomplete: copy the whole link from the e-mail.", 400),
}


@private_page
@require_http_methods(["GET", "POST"])
def vendor(request, token):
    try:
        task = services.read_vendor_token(token)
    except services.VendorLinkError as exc:
        title, text, status = VENDOR_ERRORS[exc.reason]
        return render(request, "fulfilment/vendor_error.html", {"title": title, "text": text}, status=status)
    form = AnswerForm(request.POST or None, request.FILES or None, task=task, vendor=True)
    status = 200
    if request.method == "POST":
        if not ratelimit.allow(request, "vendor"):
            form.is_valid()
            form.add_error(None, "Too many attempts from your connection. Please try again in an hour.")
            status = 429
        elif form.is_valid():
            d = form.cleaned_data
            label = f"vendor {task.system.vendor_name or task.system.name}"
            try:
                services.answer_task(task, services.Answer(
                    outcome=d["outcome"], export=d.get("export"), records_affected=d.get("records_affected"),
                    note=d.get("note", ""), reason_code=d.get("reason_code", ""), reason=d.get("reason", ""),
                    extra={"ip": ratelimit.client_ip(request)}), actor_label=label, via="vendor")
            except core.ServiceError:  # answered meanwhile (a second click, another tab)
                title, text, status = VENDOR_ERRORS["used"]
                return render(request, "fulfilment/vendor_error.html", {"title": title, "text": text},
                              status=status)
            else:
                return render(request, "fulfilment/vendor_done.html", {"task": task})
        else:
            status = 400
    case = task.case
    if request.method == "GET":  # the page shows the person unmasked to the link's holder: audited
        core.record(case, "vendor_link_opened", actor_label=f"vendor {task.system.vendor_name or task.system.name}",
                    data={"task": task.pk, "ip": ratelimit.client_ip(request)})
    return render(request, "fulfilment/vendor.html", {
        "task": task, "form": form, "case": case,
        "person": {"name": case.requester_name, "email": case.requester_email, "account_id": case.account_id},
    }, status=status)


# --- the requester's download -------------------------------------------------------------------------

SESSION_KEY = "fulfilment.package.{}"
SESSION_MINUTES = 30  # after a right code, downloads work for this long in that browser


def _load(request, token):
    try:
        case = read_token(token, STATUS)
    except BadToken as exc:
        return None, None, bad_link(request, exc, STATUS)
    use_case_language(request, case)
    package = selectors.latest_package(case)
    if package is None:
        raise Http404("No package")
    return case, package, None


def _status(token):
    return redirect(reverse("public:status", args=[token]) + "#package")


def session_ok(request, package) -> bool:
    until = request.session.get(SESSION_KEY.format(package.pk))
    return bool(until) and timezone.now().timestamp() < until


@private_page
@require_POST
def package_code(request, token):
    case, package, error = _load(request, token)
    if error:
        return error
    t = texts.for_language(case.language)
    if not ratelimit.allow(request, "package_code", email=case.requester_email):
        messages.error(request, t["too_many"])
        return _status(token)
    try:
        services.send_code(package)
    except services.PackageUnavailable:
        return _status(token)
    messages.success(request, t["code_sent"].format(minutes=settings.DSAR_PACKAGE_CODE_MINUTES))
    return _status(token)


@private_page
@require_POST
def package_verify(request, token):
    case, package, error = _load(request, token)
    if error:
        return error
    t = texts.for_language(case.language)
    form = CodeForm(request.POST)
    if not ratelimit.allow(request, "package_verify"):
        messages.error(request, t["too_many"])
    elif form.is_valid() and services.check_code(package, form.cleaned_data["code"]):
        request.session[SESSION_KEY.format(package.pk)] = (
            timezone.now() + dt.timedelta(minutes=SESSION_MINUTES)).timestamp()
    else:
        messages.error(request, t["code_wrong"])
    return _status(token)


@private_page
def package_download(request, token):
    case, package, error = _load(request, token)
    if error:
        return error
    if not session_ok(request, package):
        return _status(token)
    try:
        content = services.download_package(package)
    except services.PackageUnavailable:
        return _status(token)
    return _zip_response(content, package.filename)

