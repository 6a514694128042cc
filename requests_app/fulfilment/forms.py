from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from . import exports
from .models import Action, Category, DataSystem, ReasonCode, RequestKind


class DataSystemForm(forms.ModelForm):
    categories = forms.MultipleChoiceField(choices=Category.choices, required=False,
                                           widget=forms.CheckboxSelectMultiple)
    request_kinds = forms.MultipleChoiceField(choices=RequestKind.choices, required=False,
                                              widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = DataSystem
        fields = ["name", "description", "kind", "vendor_name", "vendor_email", "owner", "owner_email",
                  "work_mode", "categories", "request_kinds", "sources", "purposes", "recipients", "active"]
        widgets = {f: forms.Textarea(attrs={"rows": 2}) for f in ("description", "sources", "purposes", "recipients")}


class ExportField(forms.FileField):
    """An export upload checked with exports.check_export (size, type by content, ZIP integrity)."""

    def clean(self, data, initial=None):
        f = super().clean(data, initial)
        if not f:
            return None
        f.seek(0)
        content = f.read(f.size + 1 if f.size is not None else -1)
        if f.size is not None and f.size > len(content):
            content = b""  # SizeCappedUploadHandler swallowed an oversized file
        if f.size and not content:
            from requests_app import uploads

            raise ValidationError(f"This file is larger than {uploads.max_bytes() // (1024 * 1024)} MB.",
                                  code="too_large")
        return exports.check_export(f.name, content)


OUTCOME_CHOICES = [("done", "Done"), ("no_data", "The system holds no data about this person"),
                   ("failed", "Could not be done (give the reason)"), ("not_applicable", "Not applicable")]


class AnswerForm(forms.Form):
    outcome = forms.ChoiceField(choices=OUTCOME_CHOICES, widget=forms.RadioSelect)
    export = ExportField(required=False, label="Data export (JSON, CSV or ZIP)")
    records_affected = forms.IntegerField(required=False, min_value=0, label="Records erased / corrected / suppressed")
    reason_code = forms.ChoiceField(choices=ReasonCode.choices, required=False, label="Kind of reason")
    reason = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}), label="Reason")
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}), label="Note (internal)")

    def __init__(self, *args, task=None, vendor=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.task = task
        if task is not None and task.action != Action.COLLECT:
            del self.fields["export"]
        elif task is not None:
            del self.fields["records_affected"]
        if vendor:
            self.fields["outcome"].choices = [c for c in OUTCOME_CHOICES if c[0] != "not_applicable"]
            self.fields["note"].label = "Message to the privacy team (optional)"

    def clean(self):
        d = super().clean()
        if d.get("outcome") == "done" and self.task is not None:
            if self.task.action == Action.COLLECT and not d.get("export") and not self.task.files.exists():
                self.add_error("export", "Upload the export, or choose that the system holds no data.")
            if self.task.action in (Action.ERASE, Action.CORRECT) and d.get("records_affected") is None:
                self.add_error("records_affected", "Give the number of records (0 if none needed changing).")
        if d.get("outcome") in ("failed", "not_applicable") and not (d.get("reason") or "").strip():
            self.add_error("reason", "Say why: it is recorded, and a refusal is stated in the letter.")
        if d.get("outcome") == "failed" and not d.get("reason_code"):
            self.add_error("reason_code", "Choose the kind of reason.")
        return d


class OverrideForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}),
                             label="Why the decision cannot wait for the open tasks (recorded)")


class CodeForm(forms.Form):
    code = forms.CharField(max_length=12)
