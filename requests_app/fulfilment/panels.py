"""The fulfilment panels on the core's pages (hooks.panel): tasks and progress on the staff case
page; the data package on the requester's status page."""
from __future__ import annotations

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone

from requests_app import hooks
from requests_app.models import can_work

from . import selectors, services, texts
from .forms import CodeForm, OverrideForm


@hooks.panel("case", "fulfilment")
def case_panel(request, case, **kwargs) -> str:
    tasks = selectors.case_tasks(case)
    package = selectors.latest_package(case)
    if not tasks and package is None:
        return ""
    user = request.user
    blocked = services.open_tasks_text(case) if case.is_open else ""
    collects = any(t.action == "collect" and t.state == "done" for t in tasks)
    return render_to_string("fulfilment/_case_panel.html", {
        "case": case, "tasks": tasks, "progress": selectors.progress(tasks), "blocked": blocked,
        "package": package, "can_preview": (collects or package) and (can_work(case, user) or
                                                                    user.has_perm("requests_app.view_all_cases")),
        "can_override": bool(blocked) and user.has_perm("requests_app.assign_case"),
        "override_form": OverrideForm(auto_id="id_override_%s"),
    }, request=request)


@hooks.panel("status", "fulfilment")
def status_panel(request, case, token=None, **kwargs) -> str:
    package = selectors.latest_package(case)
    if package is None or token is None:
        return ""
    from .views import session_ok

    t = texts.for_language(case.language)
    expired = package.deleted_at is not None or timezone.now() > package.expires_at
    until = services.local_day(package.expires_at, case)
    return render_to_string("fulfilment/_status_panel.html", {
        "case": case, "token": token, "package": package, "t": t, "expired": expired,
        "ready_text": t["ready"].format(date=until), "expired_text": t["expired"].format(date=until),
        "downloaded_text": t["downloaded"].format(n=package.download_count),
        "authorised": not expired and session_ok(request, package), "form": CodeForm(),
        "minutes": settings.DSAR_PACKAGE_CODE_MINUTES,
    }, request=request)
