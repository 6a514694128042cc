from django import forms

from .models import Connector, Statement


class ConnectorForm(forms.ModelForm):
    # Write-only: a stored secret is never rendered back; leaving the field empty keeps it.
    url = forms.CharField(required=False, widget=forms.PasswordInput(render_value=False),
                          label="Connection URL", help_text="Stored encrypted; leave empty to keep the stored one")
    endpoint = forms.URLField(required=False, assume_scheme="https",
                              help_text="HTTP connectors: where the signed request is POSTed")
    secret = forms.CharField(required=False, widget=forms.PasswordInput(render_value=False),
                             label="Signing secret (whsec_…)", help_text="HTTP connectors; leave empty to keep it")

    class Meta:
        model = Connector
        fields = ["kind", "url_env", "url", "endpoint", "secret", "timeout_seconds", "max_rows", "identity_source",
                  "enabled"]

    def clean(self):
        data = super().clean()
        if data.get("url"):
            from .engine import dialect_of

            if not dialect_of(data["url"]):
                self.add_error("url", "Use postgresql://, mysql:// or sqlite:/// .")
            self.instance.set_url(data["url"])
        if data.get("secret"):
            if not data["secret"].startswith("whsec_"):
                self.add_error("secret", "A Standard Webhooks secret starts with whsec_.")
            self.instance.set_secret(data["secret"])
        if data.get("url_env"):
            self.instance.url_encrypted = ""
        return data


class StatementForm(forms.ModelForm):
    class Meta:
        model = Statement
        fields = ["action", "label", "sql", "position"]
        widgets = {"sql": forms.Textarea(attrs={"rows": 3, "class": "mono"})}
        # Statement.clean (sqlcheck) refuses formatted identities; the form shows its message.


class SampleForm(forms.Form):
    email = forms.EmailField(required=False)
    account_id = forms.CharField(required=False, max_length=100)
    phone = forms.CharField(required=False, max_length=40)


class CorrectionForm(forms.Form):
    new_name = forms.CharField(required=False, max_length=200, label="Corrected name")
    new_email = forms.EmailField(required=False, label="Corrected e-mail")
    new_phone = forms.CharField(required=False, max_length=40, label="Corrected phone")
    new_address = forms.CharField(required=False, max_length=300, label="Corrected address")
