"""Managers add, pause and resume webhook subscriptions and read each one's delivery log."""
from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_http_methods, require_POST

from ..api.staff_views import manager_required
from ..views.staff import _render
from . import services
from .models import EVENT_TYPES, Delivery, Subscription


class SubscriptionForm(forms.Form):
    name = forms.CharField(max_length=100)
    url = forms.CharField(max_length=500, label="URL")
    events = forms.MultipleChoiceField(choices=list(EVENT_TYPES.items()), widget=forms.CheckboxSelectMultiple)


@require_http_methods(["GET", "POST"])
@manager_required
def subscriptions(request):
    form = SubscriptionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            sub = services.create_subscription(user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, f"Subscription '{sub.name}' added. Give its signing secret to the receiver.")
            return redirect("webhooks_staff:subscription", pk=sub.pk)
    return _render(request, "webhooks/subscriptions.html", {
        "form": form, "subscriptions": Subscription.objects.all(), "event_types": EVENT_TYPES,
    }, status=400 if form.errors else 200)


@manager_required
def subscription(request, pk):
    sub = get_object_or_404(Subscription, pk=pk)
    deliveries = list(sub.deliveries.prefetch_related("tries")[:100])
    response = _render(request, "webhooks/subscription.html", {"sub": sub, "deliveries": deliveries})
    response["Cache-Control"] = "no-store"  # shows the signing secret
    return response


@require_POST
@manager_required
def toggle(request, pk):
    sub = services.set_active(get_object_or_404(Subscription, pk=pk), request.POST.get("active") == "1",
                              request.user)
    messages.success(request, f"Subscription '{sub.name}' is {'active' if sub.active else 'paused'}.")
    return redirect("webhooks_staff:subscription", pk=sub.pk)


@require_POST
@manager_required
def redeliver(request, pk, delivery_pk):
    delivery = get_object_or_404(Delivery, pk=delivery_pk, subscription_id=pk)
    services.redeliver(delivery, request.user)
    messages.success(request, f"Delivery {delivery.msg_id} will be sent again.")
    return redirect("webhooks_staff:subscription", pk=pk)
