import json

from django import forms

from . import protocol


class AgentEntryForm(forms.Form):
    entry = forms.CharField(
        label="Directory entry (JSON)", widget=forms.Textarea(attrs={"rows": 10, "class": "mono"}),
        max_length=10_000,
        help_text="The agent's entry in the DRP Authorized Agent directory (§3.05.1): id, name, verify_key, "
                  "web_url, identity_assurance_url, technical_contact, business_contact.")

    def clean_entry(self):
        try:
            entry = json.loads(self.cleaned_data["entry"])
        except ValueError as exc:
            raise forms.ValidationError(f"Not valid JSON: {exc}") from None
        try:
            return protocol.validate_agent_entry(entry)
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None
