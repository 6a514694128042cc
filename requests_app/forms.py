"""Forms of the public pages: the request form's steps, the GPC opt-out, the status page actions.

Every form is plain server-side Django: `novalidate` in the templates lets these messages (tied
to their fields by Django's aria-describedby/aria-invalid) replace the browser's own bubbles.
Labels are translated when the form is built, i.e. in the language of the request.
"""
from __future__ import annotations

import gettext as py_gettext
import re
import unicodedata
from functools import lru_cache

import pycountry
from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import get_language, gettext, gettext_lazy as _

from . import regimes as R
from .uploads import check_upload

FILER_ORDER = (R.SELF, R.AGENT, R.LEGAL_REPRESENTATIVE, R.PARENT)
ON_BEHALF = (R.AGENT, R.LEGAL_REPRESENTATIVE, R.PARENT)


# --- places -------------------------------------------------------------------------------------

def _pycountry_language() -> str:
    lang = (get_language() or "en").lower()
    return {"pt-br": "pt_BR", "pt": "pt_BR"}.get(lang, lang.split("-")[0])


@lru_cache(maxsize=8)
def _iso_translation(domain: str, lang: str):
    return py_gettext.translation(domain, pycountry.LOCALES_DIR, languages=[lang], fallback=True)


def _sort_key(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().casefold()


def country_name(code: str) -> str:
    """The country's name in the active language (pycountry ships the iso-codes catalogues)."""
    country = pycountry.countries.get(alpha_2=code)
    if country is None:
        return code
    tr = _iso_translation("iso3166-1", _pycountry_language())
    common = getattr(country, "common_name", None)
    return tr.gettext(common) if common else tr.gettext(country.name)


def country_choices() -> list[tuple[str, str]]:
    return sorted(((c.alpha_2, country_name(c.alpha_2)) for c in pycountry.countries),
                  key=lambda item: _sort_key(item[1]))


def state_choices() -> list[tuple[str, str]]:
    subs = pycountry.subdivisions.get(country_code="US")
    return sorted(((s.code, s.name) for s in subs), key=lambda item: _sort_key(item[1]))


def place_name(jurisdiction_code: str) -> str:
    if jurisdiction_code.startswith("US-"):
        sub = pycountry.subdivisions.get(code=jurisdiction_code)
        return f"{sub.name}, {country_name('US')}" if sub else jurisdiction_code
    return country_name(jurisdiction_code)


class Honeypot(forms.CharField):
    """A field people never see (hidden by CSS, skipped by keyboard and screen readers) but form
    robots fill in. The views treat a filled one as a bot and quietly store nothing."""

    def __init__(self):
        super().__init__(required=False, label=_("Leave this field empty"),
                         widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}))


_LINE_BREAKS = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]+")


def single_line(value: str) -> str:
    """Line breaks and other control characters become one space: a name typed into a one-line
    field must not start a new line in the e-mails and letters that quote it."""
    return " ".join(_LINE_BREAKS.sub(" ", value).split())


class PublicForm(forms.Form):
    """A form whose errors are also listed in the summary at the top of the page. Every field that
    is not a text area is single-line: whatever was posted, CR/LF never reach the case."""

    def _post_clean(self):
        super()._post_clean()
        for name, field in self.fields.items():
            value = self.cleaned_data.get(name)
            if isinstance(value, str) and not isinstance(field.widget, forms.Textarea):
                self.cleaned_data[name] = single_line(value)

    def error_summary(self) -> list[tuple[str, str]]:
        """(anchor id, message) for the summary at the top of the page, in field order."""
        items = []
        for message in self.non_field_errors():
            items.append(("", message))
        for name in self.fields:
            for message in self.errors.get(name, []):
                bound = self[name]
                anchor = bound.auto_id if not bound.use_fieldset else f"{bound.auto_id}_0"
                items.append((anchor, message))
        return items


# --- step 1: where do you live ------------------------------------------------------------------

class LocationForm(PublicForm):
    country = forms.ChoiceField(label=_("Country where you live"))
    us_state = forms.ChoiceField(
        label=_("US state or territory"), required=False,
        help_text=_("Only if you live in the United States: the law of your state decides your rights."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["country"].choices = [("", gettext("Choose your country"))] + country_choices()
        self.fields["us_state"].choices = [("", gettext("Choose your state"))] + state_choices()
        self.fields["country"].widget.attrs["autocomplete"] = "country"

    def clean(self):
        data = super().clean()
        country, state = data.get("country"), data.get("us_state")
        if not country:
            return data
        if country == "US":
            if not state:
                self.add_error("us_state", gettext("Choose the US state where you live."))
                return data
            code = state
        else:
            code = country
            data["us_state"] = ""
        try:
            data["jurisdiction"] = R.jurisdiction(code)
        except R.UnknownJurisdiction:
            self.add_error("country", gettext("We do not recognise this place. Choose it from the list."))
        return data


# --- step 3: which requests ----------------------------------------------------------------------

class RequestTypesForm(PublicForm):
    request_types = forms.MultipleChoiceField(
        label=_("What would you like us to do?"), widget=forms.CheckboxSelectMultiple,
        help_text=_("Choose one or more. Each becomes its own request with its own reference."),
        error_messages={"required": _("Choose at least one request.")},
    )
    details = forms.CharField(
        label=_("Anything that helps us with your request"), required=False, max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("For example, which data is wrong and what it should say, or which account you mean."),
    )

    def __init__(self, regime: R.Regime, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.regime = regime
        self.fields["request_types"].choices = [(t.code, gettext(t.label)) for t in regime.request_types]
        self.fields["request_types"].error_messages["invalid_choice"] = gettext(
            "This law does not give that right. Choose from the list.")
        if regime.code == "lfpdppp":
            # LFPDPPP (2025): the request describes the data it concerns; asked here once, not again in step 4.
            described = IdentityForm.base_fields["data_description"]
            details = self.fields["details"]
            details.required = True
            details.label, details.help_text = described.label, described.help_text
            details.error_messages = {**details.error_messages, **described.error_messages}

    def type_options(self):
        """The checkboxes with their plain-language description, for the template."""
        chosen = set(self["request_types"].value() or [])
        return [{"code": t.code, "label": gettext(t.label), "description": gettext(t.description),
                 "citation": t.citation, "checked": t.code in chosen,
                 "id": f"{self['request_types'].auto_id}_{i}"}
                for i, t in enumerate(self.regime.request_types)]


# --- step 4: who are you --------------------------------------------------------------------------

class IdentityForm(PublicForm):
    filer = forms.ChoiceField(label=_("Who is making this request?"), widget=forms.RadioSelect)
    requester_name = forms.CharField(label=_("Full name"), max_length=200,
                                     widget=forms.TextInput(attrs={"autocomplete": "name"}),
                                     error_messages={"required": _("Enter the full name.")})
    requester_email = forms.EmailField(
        label=_("E-mail address"), max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "spellcheck": "false"}),
        help_text=_("We send the confirmation link and our answers here. Use the address you use with us, "
                    "so that we can find your data."),
        error_messages={"required": _("Enter the e-mail address."),
                        "invalid": _("Enter an e-mail address like name@example.com.")},
    )
    account_id = forms.CharField(label=_("Customer account ID"), max_length=100, required=False,
                                 help_text=_("If you have an account with us. It helps us find your data."))
    phone = forms.CharField(label=_("Phone number"), max_length=40, required=False,
                            widget=forms.TextInput(attrs={"autocomplete": "tel", "type": "tel"}))
    registered_email = forms.BooleanField(
        label=_("The e-mail address above is the one registered with my account"), required=False)
    data_description = forms.CharField(
        label=_("Which personal data does your request concern?"), max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Describe the data clearly, for example “my order history since 2023” or “my delivery "
                    "addresses”. Mexican law requires this description."),
        error_messages={"required": _("Describe the personal data your request concerns (required in Mexico).")},
    )
    agent_name = forms.CharField(label=_("Your full name"), max_length=200, required=False,
                                 widget=forms.TextInput(attrs={"autocomplete": "name"}))
    agent_email = forms.EmailField(label=_("Your e-mail address"), max_length=254, required=False,
                                   widget=forms.EmailInput(attrs={"autocomplete": "email", "spellcheck": "false"}),
                                   help_text=_("We send a copy of every message to you as well."),
                                   error_messages={"invalid": _("Enter an e-mail address like name@example.com.")})
    agent_organisation = forms.CharField(label=_("Organisation (if any)"), max_length=200, required=False,
                                         widget=forms.TextInput(attrs={"autocomplete": "organization"}))
    authorisation = forms.FileField(
        label=_("Signed authorisation or proof of your role"), required=False,
        help_text=_("A PDF, PNG or JPEG of at most 10 MB: the person's signed permission (authorised agent), "
                    "the power of attorney (legal representative), or proof that you are the parent or "
                    "guardian (for example a birth certificate)."),
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.png,.jpg,.jpeg,application/pdf,image/png,image/jpeg"}),
    )
    power_of_attorney = forms.BooleanField(
        label=_("As an authorised agent, I hold a power of attorney for this person"), required=False,
        help_text=_("Then the upload is the power of attorney, and we do not ask the person to confirm your "
                    "permission directly (11 CCR §7063(b))."))
    website = Honeypot()

    def __init__(self, regime: R.Regime, *args, parked: dict | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.regime = regime
        self.parked = parked  # an authorisation uploaded earlier in this form
        self.fields["filer"].choices = [(f, gettext(R.FILER_LABELS[f])) for f in FILER_ORDER if f in regime.filers]
        self.fields["filer"].initial = R.SELF
        if regime.code == "lfpdppp":
            # LFPDPPP (2025): an account ID, registered e-mail or phone identifies the account.
            self.fields["account_id"].help_text = _("Give your account ID, or your registered phone number, or "
                                                    "tick the box below if this e-mail is the registered one.")
        else:
            del self.fields["registered_email"]
        del self.fields["data_description"]  # Mexico's is the description of step 3
        if R.AGENT not in regime.filers:
            del self.fields["power_of_attorney"]

    @property
    def is_mexico(self) -> bool:
        return self.regime.code == "lfpdppp"

    def clean_authorisation(self):
        file = self.cleaned_data.get("authorisation")
        if not file:
            return None
        checked = check_upload(file, purpose="authorisation")
        self.original_name = file.name
        return checked

    def clean_requester_name(self):
        return " ".join(self.cleaned_data["requester_name"].split())

    def clean(self):
        data = super().clean()
        filer = data.get("filer")
        if filer in ON_BEHALF:
            if not data.get("agent_name", "").strip():
                self.add_error("agent_name", gettext("Enter your own full name, as the person filing."))
            if not data.get("agent_email") and "agent_email" not in self.errors:
                self.add_error("agent_email", gettext("Enter your own e-mail address, as the person filing."))
            if not data.get("authorisation") and not self.parked and "authorisation" not in self.errors:
                self.add_error("authorisation", gettext(
                    "Upload the signed authorisation or proof of your role (PDF, PNG or JPEG)."))
        if self.is_mexico and not (data.get("account_id", "").strip() or data.get("phone", "").strip()
                                   or data.get("registered_email")):
            # LFPDPPP (2025): account ID, registered e-mail or phone is required.
            self.add_error("account_id", gettext(
                "Give your account ID or registered phone number, or confirm that the e-mail address is the "
                "one registered with your account."))
        return data


# --- review -----------------------------------------------------------------------------------------

class ReviewForm(PublicForm):
    declaration = forms.BooleanField(
        label=_("The information I have given is true, and I am the person concerned or entitled to act for them."),
        error_messages={"required": _("Confirm the declaration to send your request.")},
    )


# --- Global Privacy Control opt-out -------------------------------------------------------------------

class OptOutForm(PublicForm):
    requester_name = IdentityForm.base_fields["requester_name"]
    requester_email = forms.EmailField(
        label=_("E-mail address"), max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "spellcheck": "false"}),
        help_text=_("We send one confirmation link here, so that nobody can opt out in your name."),
        error_messages={"required": _("Enter the e-mail address."),
                        "invalid": _("Enter an e-mail address like name@example.com.")},
    )
    website = Honeypot()


class GpcOptOutForm(PublicForm):
    """A Global Privacy Control signal is an opt-out in itself (11 CCR §7025): one click, no name,
    and an e-mail address only if the person wants it applied to their account too."""

    requester_email = forms.EmailField(
        label=_("E-mail address (optional)"), max_length=254, required=False,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "spellcheck": "false"}),
        help_text=_("Only if you want the opt-out applied to your account too; we send the confirmation of your "
                    "opt-out there."),
        error_messages={"invalid": _("Enter an e-mail address like name@example.com.")},
    )
    website = Honeypot()


# --- status page ---------------------------------------------------------------------------------------

class ResendLinkForm(PublicForm):
    email = forms.EmailField(label=_("E-mail address you used for the request"), max_length=254,
                             widget=forms.EmailInput(attrs={"autocomplete": "email", "spellcheck": "false"}),
                             error_messages={"required": _("Enter the e-mail address."),
                                             "invalid": _("Enter an e-mail address like name@example.com.")})
    reference = forms.CharField(label=_("Reference (optional)"), max_length=20, required=False,
                                help_text=_("Without it, we send the links to all the requests made with "
                                            "this address."))
    website = Honeypot()

    def clean_reference(self):
        return self.cleaned_data["reference"].strip().upper()


class ReplyForm(PublicForm):
    message = forms.CharField(label=_("Your answer"), required=False, max_length=8000,
                              widget=forms.Textarea(attrs={"rows": 5}))
    document = forms.FileField(
        label=_("Document (optional)"), required=False,
        help_text=_("A PDF, PNG or JPEG of at most 10 MB, for example a copy of your ID."),
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.png,.jpg,.jpeg,application/pdf,image/png,image/jpeg"}),
    )

    def clean_document(self):
        file = self.cleaned_data.get("document")
        return check_upload(file, purpose="document") if file else None

    def clean(self):
        data = super().clean()
        if not data.get("message", "").strip() and not data.get("document") and "document" not in self.errors:
            raise ValidationError(gettext("Write your answer or attach a document."))
        return data


class WithdrawForm(PublicForm):
    reason = forms.CharField(label=_("Why are you withdrawing? (optional)"), required=False, max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 3}))


class AppealForm(PublicForm):
    statement = forms.CharField(
        label=_("Why do you disagree with our decision?"), max_length=8000, widget=forms.Textarea(attrs={"rows": 6}),
        error_messages={"required": _("Tell us why you appeal, so that the reviewer can consider it.")},
    )
