"""The connectors panel on the staff case page: the identity match and each connector run."""
from __future__ import annotations

from django.conf import settings
from django.template.loader import render_to_string

from requests_app import hooks

from .forms import CorrectionForm
from .models import IdentityMatch, Run
from .services import two_points_met


@hooks.panel("case", "connectors")
def case_panel(request, case, **kwargs) -> str:
    match = IdentityMatch.objects.filter(case=case).select_related("connector__system").first()
    runs = list(Run.objects.filter(task__case=case).select_related("task__system", "connector", "requested_by", "approved_by")
                .order_by("task__system__name"))
    if match is None and not runs:
        return ""
    return render_to_string("connectors/_case_panel.html", {
        "case": case, "match": match, "runs": runs, "ccpa": case.regime == "ccpa",
        "two_points": match is not None and two_points_met(match), "mexico": case.regime == "lfpdppp",
        "approval": settings.DSAR_CONNECTOR_ERASE_APPROVAL, "correction_form": CorrectionForm(),
        "user": request.user,
    }, request=request)


@hooks.queue_flag("connectors")
def queue_flag(case_ids) -> dict[int, str]:
    """A failed connector shows on the queue row: the clock keeps running."""
    failed = Run.objects.filter(state="failed", task__case_id__in=case_ids).values_list("task__case_id", flat=True)
    return {case_id: "connector failed" for case_id in set(failed)}
