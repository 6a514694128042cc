from django.contrib.auth.decorators import login_required, permission_required
from django.shortcuts import render

from .. import services


@login_required
@permission_required("requests_app.work_case", raise_exception=True)
def queue(request):
    cases = services.open_cases().order_by("next_due_at")[:50]
    return render(request, "requests_app/staff/queue.html", {"cases": cases})
