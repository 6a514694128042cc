from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from requests_app import regimes as R
from requests_app import uploads
from requests_app.models import Channel, Filer

from .services import STAFF_CHANNELS


def _all_request_types():
    seen: dict[str, str] = {}
    for regime in R.REGIMES.values():
        for rt in regime.request_types:
            seen.setdefault(rt.code, f"{rt.label} ({rt.code})")
    return sorted(seen.items(), key=lambda kv: kv[1])


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one field, each checked like every upload (requests_app/uploads.py)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, (list, tuple)) else [data] if data else []
        return [uploads.check_upload(super(MultipleFileField, self).clean(f, initial), "received") for f in files]


class NewRequestForm(forms.Form):
    """What staff type in for a request received by e-mail, post, phone or in person."""

    channel = forms.ChoiceField(choices=[(c.value, c.label) for c in Channel if c in STAFF_CHANNELS])
    jurisdiction = forms.CharField(max_length=8, help_text="ISO code: a country (DE, MX, BR, GB) or a US state "
                                                           "(US-CA)")
    received_at = forms.DateTimeField(
        label="Arrived on (date and time, in the requester's time zone)",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"],
        help_text="When it reached us (postmark, call, e-mail arrival), not when you type it in.")
    request_types = forms.MultipleChoiceField(choices=_all_request_types, widget=forms.CheckboxSelectMultiple)
    filer = forms.ChoiceField(choices=Filer.choices, initial=Filer.SELF)
    requester_name = forms.CharField(max_length=200)
    requester_email = forms.EmailField(required=False, help_text="Leave empty if there is none: letters are then "
                                                                 "printed for posting.")
    postal_address = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    phone = forms.CharField(max_length=40, required=False)
    account_id = forms.CharField(max_length=100, required=False, label="Account ID")
    data_description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}),
                                       label="The data concerned (required in Mexico)")
    details = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 4}),
                              label="The request as received (text, or a summary of the call)")
    agent_name = forms.CharField(max_length=200, required=False)
    agent_email = forms.EmailField(required=False)
    agent_organisation = forms.CharField(max_length=200, required=False)
    documents = MultipleFileField(required=False, label="The original letter or scan (PDF, PNG or JPEG)")
    authorisation = forms.FileField(required=False, label="Signed authorisation (agent, representative, parent)")

    def __init__(self, *args, message=None, **kwargs):
        self.message = message
        super().__init__(*args, **kwargs)
        if message is not None:
            # The receipt is the message's arrival, exactly; the e-mail and its attachments go on
            # the case as they are.
            for name in ("documents", "received_at", "channel"):
                del self.fields[name]

    def clean_jurisdiction(self):
        code = self.cleaned_data["jurisdiction"].strip().upper()
        try:
            self.jur = R.jurisdiction(code)
        except R.UnknownJurisdiction as exc:
            raise ValidationError(str(exc)) from None
        return code

    def clean_authorisation(self):
        f = self.cleaned_data.get("authorisation")
        return uploads.check_upload(f, "authorisation") if f else None

    def clean(self):
        data = super().clean()
        if self.message is not None:
            data["received_at"], data["channel"] = self.message.received_at, Channel.EMAIL
            return self._clean_addresses(data)
        moment, jur = data.get("received_at"), getattr(self, "jur", None)
        if moment is not None and jur is not None:
            # Typed in the requester's zone (the jurisdiction's): make it aware there, store UTC.
            local = moment.replace(tzinfo=None) if timezone.is_aware(moment) else moment
            data["received_at"] = local.replace(tzinfo=ZoneInfo(jur.timezone)).astimezone(dt.timezone.utc)
            if data["received_at"] > timezone.now():
                self.add_error("received_at", "The request cannot have arrived in the future.")
        return self._clean_addresses(data)

    def _clean_addresses(self, data):
        if data.get("channel") == Channel.EMAIL and not data.get("requester_email"):
            self.add_error("requester_email", "A request received by e-mail has the sender's address.")
        if not data.get("requester_email") and not data.get("postal_address") and not data.get("agent_email"):
            self.add_error("postal_address", "Without an e-mail address, give the postal address the letters go to.")
        return data

    def service_kwargs(self) -> dict:
        d = self.cleaned_data
        keys = ("channel", "jurisdiction", "received_at", "request_types", "filer", "requester_name",
                "requester_email", "postal_address", "phone", "account_id", "data_description", "details",
                "agent_name", "agent_email", "agent_organisation", "authorisation")
        kwargs = {k: d.get(k) for k in keys}
        kwargs["documents"] = d.get("documents") or []
        return {k: v for k, v in kwargs.items() if v is not None}


class DismissForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}),
                             help_text="E.g. spam, a newsletter, a customer-service question (forwarded).")


class AttachForm(forms.Form):
    reference = forms.CharField(max_length=20, help_text="The case reference, e.g. DSAR-2026-000123")


class BlockForm(forms.Form):
    value = forms.CharField(max_length=254, label="Address or domain")
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))


class LiftForm(forms.Form):
    reason = forms.CharField(required=False, max_length=500)
