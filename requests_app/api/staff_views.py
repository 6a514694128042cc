"""Managers create, list and revoke API keys. A new key's value is shown once, in the response
to the POST that created it, and never stored."""
from __future__ import annotations

import functools

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_http_methods, require_POST

from ..views.staff import _render, staff_required
from . import services
from .models import ApiKey, ApiKeyRole


def manager_required(view):
    @staff_required
    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if not services.is_manager(request.user):
            raise PermissionDenied("Only a manager may manage API keys and webhooks.")
        return view(request, *args, **kwargs)
    return wrapper


class ApiKeyForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What uses the key, e.g. 'ticketing sync'")
    role = forms.ChoiceField(choices=ApiKeyRole.choices)
    expires_at = forms.DateTimeField(required=False, help_text="Optional, UTC: YYYY-MM-DD HH:MM",
                                     widget=forms.DateTimeInput(attrs={"placeholder": "2027-01-31 00:00"}))


@require_http_methods(["GET", "POST"])
@manager_required
def keys(request):
    form = ApiKeyForm(request.POST or None)
    created = raw = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                created, raw = services.create_key(created_by=request.user, **form.cleaned_data)
                form = ApiKeyForm()
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
        if raw is None:
            status = 400
    response = _render(request, "api/keys.html", {
        "form": form, "keys": ApiKey.objects.select_related("created_by", "revoked_by"),
        "created": created, "raw": raw,
    }, status=status)
    response["Cache-Control"] = "no-store"  # the page may hold a key's only copy
    return response


@manager_required
def key_detail(request, pk):
    key = get_object_or_404(ApiKey, pk=pk)
    return _render(request, "api/key.html", {"key": key, "uses": key.uses.all()[:100]})


@require_POST
@manager_required
def revoke(request, pk):
    key = services.revoke_key(get_object_or_404(ApiKey, pk=pk), request.user)
    messages.success(request, f"API key '{key.name}' is revoked; it no longer authenticates.")
    return redirect("api_staff:keys")
