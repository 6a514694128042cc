from django.shortcuts import render

from .. import services
from ..tokens import CONFIRM, STATUS, BadToken, read_token


def start(request):
    return render(request, "requests_app/public/start.html")


def _case_or_error(request, token, purpose):
    try:
        return read_token(token, purpose), None
    except BadToken as exc:
        return None, render(request, "requests_app/public/bad_link.html",
                            {"message": str(exc), "expired": exc.expired}, status=400)


def confirm(request, token):
    case, error = _case_or_error(request, token, CONFIRM)
    if error:
        return error
    case = services.confirm_email(case)
    return render(request, "requests_app/public/confirmed.html", {"case": case,
                                                                  "status_url": services.status_url(case)})


def status(request, token):
    case, error = _case_or_error(request, token, STATUS)
    if error:
        return error
    return render(request, "requests_app/public/status.html", {
        "case": case,
        "events": case.events.filter(public=True),
        "deadlines": case.deadlines.filter(appeal__isnull=True, is_obligation=True),
        "letters": case.letters.filter(status="issued"),
    })
