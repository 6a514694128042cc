from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from requests_app import ratelimit
from requests_app import services as core
from requests_app.fulfilment.models import DataSystem
from requests_app.views.staff import _case_for, _render, staff_required

from . import services
from .forms import ConnectorForm, CorrectionForm, SampleForm, StatementForm
from .models import Connector, Run, Statement


def _run_for(request, pk) -> Run:
    run = get_object_or_404(Run.objects.select_related("task__case", "connector"), pk=pk)
    _case_for(request.user, run.task.case_id)  # who may see the case may act on its runs
    return run


def _back(run: Run):
    return redirect(reverse("staff:case", args=[run.task.case_id]) + "#connectors")


def _act(request, pk, fn, ok: str, *args):
    run = _run_for(request, pk)
    try:
        fn(run, request.user, *args)
        messages.success(request, ok)
    except core.ServiceError as exc:
        messages.error(request, str(exc))
    return _back(run)


RUN_ACTIONS = {
    "retry": (services.retry, "The connector is queued again."),
    "dry-run": (services.request_dry_run, "Dry run queued: the counts appear here when it has run."),
    "erase": (services.request_erasure, "Erasure requested."),
    "approve": (services.approve_erasure, "Erasure approved and queued."),
}


@require_POST
@staff_required
def run_action(request, pk, action):
    if action not in RUN_ACTIONS:
        raise Http404("no such action")
    fn, ok = RUN_ACTIONS[action]
    return _act(request, pk, fn, ok)


@require_POST
@staff_required
def correct(request, pk):
    form = CorrectionForm(request.POST)
    if not form.is_valid():
        run = _run_for(request, pk)
        messages.error(request, "Check the corrected values: " + "; ".join(
            f"{k}: {' '.join(v)}" for k, v in form.errors.items()))
        return _back(run)
    return _act(request, pk, services.request_correction, "Correction queued.", form.cleaned_data)


def _require_manager(user):
    if not user.has_perm("requests_app.assign_case"):
        raise PermissionDenied("Only managers configure connectors.")


@require_http_methods(["GET", "POST"])
@staff_required
def connector_edit(request, system_pk):
    _require_manager(request.user)
    system = get_object_or_404(DataSystem, pk=system_pk)
    connector = Connector.objects.filter(system=system).first() or Connector(system=system)
    form = ConnectorForm(request.POST or None, instance=connector, prefix="c")
    statement_form = StatementForm(prefix="s")
    sample_form = SampleForm(prefix="t")
    test_results = None
    action = request.POST.get("do", "") if request.method == "POST" else ""
    if action == "save" and form.is_valid():
        services.save_connector(form.instance, request.user)
        messages.success(request, "Connector saved.")
        return redirect("connectors:edit", system_pk=system.pk)
    if action == "add" and connector.pk:
        form = ConnectorForm(instance=connector, prefix="c")
        statement_form = StatementForm(request.POST, prefix="s", instance=Statement(connector=connector))
        if statement_form.is_valid():
            services.save_statement(connector, user=request.user, **statement_form.cleaned_data)
            messages.success(request, "Statement added.")
            return redirect("connectors:edit", system_pk=system.pk)
    if action == "test" and connector.pk:
        form = ConnectorForm(instance=connector, prefix="c")
        sample_form = SampleForm(request.POST, prefix="t")
        if sample_form.is_valid():
            try:
                test_results = services.test_connector(connector, sample_form.cleaned_data, request.user)
            except core.ServiceError as exc:
                messages.error(request, str(exc))
    bad = request.method == "POST" and action in ("save", "add") and not (form.is_valid() and statement_form.is_valid())
    return _render(request, "connectors/connector_form.html", {
        "system": system, "connector": connector if connector.pk else None, "form": form,
        "statement_form": statement_form, "sample_form": sample_form, "test_results": test_results,
        "statements": list(connector.statements.all()) if connector.pk else [], "nav_override": "systems",
    }, status=400 if bad else 200)


@require_POST
@staff_required
def statement_delete(request, pk):
    _require_manager(request.user)
    system_pk = services.delete_statement(get_object_or_404(Statement, pk=pk), request.user)
    messages.success(request, "Statement removed.")
    return redirect("connectors:edit", system_pk=system_pk)


@csrf_exempt  # the signed URL and the Standard Webhooks signature authenticate the service
@require_POST
def callback(request, token):
    # Per callback URL (one per run): a service retrying is fine, a flood is not.
    if not ratelimit.hit("connector_callback", token, "60/h"):
        return HttpResponse("too many callbacks", status=429, content_type="text/plain")
    try:
        outcome = services.receive_callback(token, request.body, request.headers)
    except services.CallbackError as exc:
        return HttpResponse(str(exc), status=exc.status, content_type="text/plain")
    return HttpResponse(outcome, content_type="text/plain")
