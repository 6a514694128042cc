"""The optional one-time code (DSAR_EMAIL_CODE_REQUIRED): the web form proves the address before
it creates a case, so a mistyped address never does. Once the address is proven, a person who
already has an open request of the same type is told so before sending another one."""
from __future__ import annotations

from django import forms
from django.conf import settings
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from requests_app import hooks, ratelimit
from requests_app.views.public import SESSION_KEY, current_language

from . import services

VERIFIED = "intake_verified_email"
DUPLICATE_OK = "intake_duplicate_ok"


class CodeForm(forms.Form):
    code = forms.CharField(label=_("The 6-digit code"), max_length=6, min_length=6,
                           widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}))


def _next(request) -> str:
    target = request.GET.get("next") or request.POST.get("next") or reverse("public:review")
    return target if url_has_allowed_host_and_scheme(target, {request.get_host()}) else reverse("public:review")


def _pending_email(request) -> str:
    return ((request.session.get(SESSION_KEY) or {}).get("identity") or {}).get("requester_email", "")


@hooks.submission_gate("intake-email-code")
def gate(request, email: str, request_types) -> str | None:
    if not settings.DSAR_EMAIL_CODE_REQUIRED:
        return None
    url = reverse("intake_public:email_code") + "?next=" + reverse("public:review")
    if request.session.get(VERIFIED, "").lower() != email.strip().lower():
        return url
    if request.session.get(DUPLICATE_OK, "").lower() != email.strip().lower() and \
            any(services.open_duplicates(email, t).exists() for t in request_types):
        return url
    return None


@never_cache
@require_http_methods(["GET", "POST"])
def email_code(request):
    email = _pending_email(request)
    if not email:
        return redirect("public:start")
    status, sent, form, error = 200, False, CodeForm(), ""
    action = request.POST.get("action")
    if request.method == "POST" and action == "send":
        # Limited per address and per client: codes cannot be used to mail-bomb anyone.
        if ratelimit.allow(request, "email_code") and ratelimit.hit("email_code:to", email,
                                                                      settings.DSAR_EMAIL_CODE_RATE):
            services.send_code(email, current_language())
            sent = True
        else:
            error = _("Many codes were asked for in a short time. Please wait an hour, then try again.")
            status = 429
    elif request.method == "POST" and action == "verify":
        form = CodeForm(request.POST)
        if form.is_valid():
            if services.check_code(email, form.cleaned_data["code"]):
                request.session[VERIFIED] = email.strip().lower()
            else:
                form.add_error("code", _("This code is wrong, used or expired. Ask for a new one."))
        status = 200 if form.is_valid() and not form.errors else 400
    elif request.method == "POST" and action == "send_anyway" and request.session.get(VERIFIED) == email.lower():
        request.session[DUPLICATE_OK] = email.strip().lower()
        return redirect(_next(request))
    verified = request.session.get(VERIFIED, "") == email.strip().lower()
    duplicates = []
    if verified:
        types = (request.session.get(SESSION_KEY) or {}).get("request_types") or []
        duplicates = [c for t in types for c in services.open_duplicates(email, t)]
        if not duplicates or request.session.get(DUPLICATE_OK) == email.lower():
            return redirect(_next(request))
    return render(request, "intake/email_code.html", {
        "email": email, "form": form, "sent": sent, "error": error, "verified": verified, "duplicates": duplicates,
        "next": _next(request), "minutes": settings.DSAR_EMAIL_CODE_MINUTES}, status=status)
