"""Forms of the staff UI: the queue filters, the case actions and the deadline calculator.

Every case action carries the case `version` it was loaded at; the services compare it with the
row they lock (optimistic locking), so a second editor gets a Conflict instead of overwriting.
Each form asks for exactly what the law needs for that step; the services re-check it.
"""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo
import json

from django import forms
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from . import refusals, uploads
from . import regimes as R
from .calculator_choices import jurisdiction_groups, request_type_groups
from .models import OPEN_STATES, AppealState, Awaiting, State
from .selectors import QueueFilters
from .uploads import check_upload

# --- the queue --------------------------------------------------------------------------------------


class FastSelect(forms.Select):
    """A <select> rendered in Python: the stock widget renders one template per <option>, which
    made up a third of the queue page's time with a hundred options on it."""

    def render(self, name, value, attrs=None, renderer=None):
        attrs = self.build_attrs(self.attrs, attrs)
        selected = {str(v) for v in (value if isinstance(value, (list, tuple)) else [value]) if v is not None}

        def options(choices):
            return format_html_join("", "<option value=\"{}\"{}>{}</option>",
                                    ((v, mark_safe(" selected") if str(v) in selected else "", label)
                                     for v, label in choices))

        parts = []
        for group, choices in self.choices:
            if isinstance(choices, (list, tuple)):
                parts.append(format_html('<optgroup label="{}">{}</optgroup>', group, options(choices)))
            else:
                parts.append(options([(group, choices)]))
        return format_html("<select name=\"{}\"{}>{}</select>", name, flatatt(attrs), mark_safe("".join(parts)))

PER_PAGE_CHOICES = [(10, "10"), (25, "25"), (50, "50"), (100, "100")]
DEFAULT_PER_PAGE = 50


def regime_choices():
    return [("", _("All regimes"))] + [(r.code, f"{r.name} ({r.code})") for r in R.REGIMES.values()]


def request_type_choices():
    seen: dict[str, str] = {}
    for regime in R.REGIMES.values():
        for rt in regime.request_types:
            seen.setdefault(rt.code, rt.code.replace("_", " "))
    return [("", _("All types"))] + sorted(seen.items(), key=lambda kv: kv[1])


def state_choices():
    case_states = [(s.value, s.label) for s in State if s in OPEN_STATES]
    appeal_states = [(f"appeal:{s.value}", f"Appeal {str(s.label).lower()}")
                     for s in (AppealState.RECEIVED, AppealState.IN_REVIEW)]
    closed_states = [(s.value, s.label) for s in State if s not in OPEN_STATES]
    return [("", _("All open states")), (_("Cases"), case_states), (_("Appeals"), appeal_states),
            (_("Closed cases"), closed_states)]


class QueueFilterForm(forms.Form):
    q = forms.CharField(required=False, label=_("Search"),
                        widget=forms.TextInput(attrs={"placeholder": _("Reference, e-mail or name"),
                                                      "type": "search"}))
    regime = forms.ChoiceField(required=False, choices=regime_choices, widget=FastSelect)
    request_type = forms.ChoiceField(required=False, choices=request_type_choices, label=_("Type"),
                                     widget=FastSelect)
    state = forms.ChoiceField(required=False, choices=state_choices, widget=FastSelect)
    assignee = forms.ChoiceField(required=False, widget=FastSelect)
    due_within = forms.IntegerField(required=False, min_value=0, max_value=366, label=_("Due within (days)"),
                                    widget=forms.NumberInput(attrs={"placeholder": _("days"),
                                                                    "title": _("Calendar days from now; overdue "
                                                                               "items are included")}))
    overdue = forms.BooleanField(required=False, label=_("Overdue"))
    show = forms.ChoiceField(required=False, label=_("Show"), widget=FastSelect, choices=[
        ("", _("Cases and appeals")), ("cases", _("Cases only")), ("appeals", _("Appeals only")),
        ("closed", _("Closed cases (archive)"))])
    repeat = forms.BooleanField(required=False, label=_("Repeat requests"))
    mine = forms.BooleanField(required=False, label=_("My cases"))
    per_page = forms.TypedChoiceField(required=False, coerce=int, choices=PER_PAGE_CHOICES, empty_value=None,
                                      label=_("Per page"), widget=FastSelect)

    def __init__(self, data=None, *args, staff=(), **kwargs):
        if data is not None and not data.get("per_page"):
            data = data.copy()
            data["per_page"] = str(DEFAULT_PER_PAGE)  # so the select shows the size actually used
        super().__init__(data, *args, **kwargs)
        self.fields["assignee"].choices = ([("", _("Anyone")), ("none", _("Unassigned"))]
                                           + [(str(u.pk), u.get_username()) for u in staff])

    def filters(self) -> QueueFilters:
        d = self.cleaned_data if self.is_valid() else {}
        return QueueFilters(
            q=d.get("q") or "", regime=d.get("regime") or "", request_type=d.get("request_type") or "",
            state=d.get("state") or "", assignee=d.get("assignee") or "", due_within=d.get("due_within"),
            overdue=bool(d.get("overdue")), show=d.get("show") or "", repeat=bool(d.get("repeat")),
            mine=bool(d.get("mine")),
        )

    @property
    def page_size(self) -> int:
        return (self.cleaned_data.get("per_page") if self.is_valid() else None) or DEFAULT_PER_PAGE


class BulkAssignForm(forms.Form):
    """Managers select rows (each carries its case's version) and pick an assignee."""

    assignee = forms.ChoiceField(label=_("Assign selected to"), widget=FastSelect)
    items = forms.MultipleChoiceField(required=False)  # "case_pk:version", validated in clean_items

    def __init__(self, *args, staff=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].choices = [("", "—"), ("none", _("Nobody (unassign)"))] + [
            (str(u.pk), u.get_username()) for u in staff]
        self.fields["items"].choices = [(v, v) for v in self.data.getlist("items")] if self.data else []

    def clean_items(self) -> list[tuple[int, int]]:
        parsed = []
        for raw in self.cleaned_data["items"]:
            try:
                pk, version = raw.split(":")
                parsed.append((int(pk), int(version)))
            except ValueError:
                raise forms.ValidationError(_("A selected row is malformed; reload the queue.")) from None
        if not parsed:
            raise forms.ValidationError(_("Select at least one row."))
        return list(dict.fromkeys(parsed))


# --- case actions -----------------------------------------------------------------------------------

class VersionedForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, case=None, **kwargs):
        self.case = case
        super().__init__(*args, **kwargs)


def _text(label, *, required=True, rows=3, help_text=""):
    return forms.CharField(label=label, required=required, help_text=help_text,
                           widget=forms.Textarea(attrs={"rows": rows}))


class VerifyForm(VersionedForm):
    method = forms.CharField(label=_("How was the identity verified?"), max_length=300,
                             help_text=_("E.g. 'logged-in account', 'matched 3 data points', 'ID document'."))


class RequestInformationForm(VersionedForm):
    what = forms.ChoiceField(label=_("What do you need?"))
    message = _text(_("Message to the requester"), rows=4)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        regime = self.case.regime_info
        if regime.may_request_information_once:
            # LFPDPPP (2025): missing information, asked once within 5 business days.
            choices = [(Awaiting.INFORMATION, _("Missing information (once only, LFPDPPP)"))]
        elif regime.restart_on_identity:
            # UK GDPR Art. 12A: ID restarts the clock on arrival; a clarification pauses it for access only.
            pauses = regime.pauses_on_clarification(self.case.request_type)
            choices = [(Awaiting.IDENTITY, _("Proof of identity — the clock restarts when it arrives")),
                       (Awaiting.CLARIFICATION, _("Clarification — the clock pauses until it arrives") if pauses
                        else _("Clarification — the clock keeps running"))]
        else:
            choices = [(Awaiting.INFORMATION, _("Missing information")), (Awaiting.IDENTITY, _("Proof of identity")),
                       (Awaiting.CLARIFICATION, _("Clarification of the request"))]
        self.fields["what"].choices = choices
        if not regime.restart_on_identity and not regime.may_request_information_once:
            self.fields["what"].help_text = _("The legal clock keeps running while you wait.")


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"
    format = "%Y-%m-%dT%H:%M"


class ZonedDateTimeField(forms.DateTimeField):
    """A local date and time typed in a given zone (the requester's), returned aware."""

    widget = DateTimeLocalInput
    input_formats = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]

    def __init__(self, *args, zone: str = "UTC", **kwargs):
        self.zone = zone
        super().__init__(*args, **kwargs)

    def to_python(self, value):
        with timezone.override(ZoneInfo(self.zone)):
            return super().to_python(value)

    def prepare_value(self, value):
        if isinstance(value, dt.datetime) and timezone.is_aware(value):
            return value.astimezone(ZoneInfo(self.zone)).strftime(DateTimeLocalInput.format)
        return value


class ArrivalForm(VersionedForm):
    """Staff record something that arrived earlier (post, phone, e-mail): the clocks count from
    when it arrived, never from when it was typed in (spec section 3)."""

    arrival_label = _("When did it arrive?")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        zone = self.case.jurisdiction_info.timezone
        self.fields["received_at"] = ZonedDateTimeField(
            zone=zone, label=self.arrival_label, initial=timezone.now, required=False,
            help_text=_("Local time of the requester (%(zone)s). Not in the future, not before the request "
                        "was received.") % {"zone": zone})

    def clean_received_at(self):
        value = self.cleaned_data["received_at"]
        if value is None:  # left empty: it arrives now
            return None
        if value > timezone.now():
            raise forms.ValidationError(_("The arrival time cannot be in the future."))
        if value < self.case.received_at:
            received = self.case.received_at.astimezone(ZoneInfo(self.case.jurisdiction_info.timezone))
            raise forms.ValidationError(_("It cannot have arrived before the request itself (%(when)s).")
                                        % {"when": f"{received:%Y-%m-%d %H:%M}"})
        return value


class ReceiveReplyForm(ArrivalForm):
    message = _text(_("The requester's answer (received by post, phone or e-mail)"), rows=3, required=False)
    upload = forms.FileField(required=False, label=_("Document received"))
    arrival_label = _("When did the answer arrive?")

    def clean_upload(self):
        file = self.cleaned_data.get("upload")
        return check_upload(file, purpose="document") if file else None  # the public form's check

    def clean(self):
        data = super().clean()
        if not (data.get("message") or "").strip() and not data.get("upload"):
            raise forms.ValidationError(_("Write the answer or attach the document received."))
        return data


def _lines(value: str) -> list[str]:
    return [line.strip() for line in (value or "").splitlines() if line.strip()]


KNOW_LABELS = {
    # Cal. Civ. Code §1798.110(a), 11 CCR §7024 (CCPA: required); GDPR Art. 15(1)(a)-(d), (g).
    "categories": _("Categories of personal information collected"),
    "sources": _("Categories of sources"),
    "purposes": _("Business or commercial purposes"),
    "recipients": _("Categories of third parties it was disclosed to"),
}


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ".json,.csv,.zip"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, (list, tuple)):
            return [super(MultipleFileField, self).clean(d, initial) for d in data]
        return [super().clean(data, initial)] if data else []


class DecisionForm(VersionedForm):
    """fulfil, partially_fulfil, deny. The keys match what the response letters render
    (letters.letter_context): actions, the know disclosures, retention, retained, reasons,
    legal_basis, and the data itself for an access response (attached as JSON and CSV)."""

    def __init__(self, *args, outcome: str, **kwargs):
        self.outcome = outcome
        super().__init__(*args, **kwargs)
        case = self.case
        if outcome in ("fulfil", "partially_fulfil"):
            self.fields["actions"] = _text(_("What we did (one per line, shown in the letter)"), required=False,
                                           rows=2)
        if outcome in ("deny", "partially_fulfil"):
            self.fields["reasons"] = _text(
                _("Reasons for refusing (in whole or in part)"), rows=4,
                help_text=_("Required: every refusal states its reasons; the letter adds the complaint or "
                            "appeal route."))
        if outcome == "partially_fulfil":
            self.fields["retained"] = _text(_("Data we keep (one per line)"), required=False, rows=2)
        if outcome == "deny":
            # The regime's own grounds (refusals.py); CCPA's are its §7102(a)(2) metrics bases.
            self.fields["basis"] = forms.ChoiceField(label=_("Ground for the refusal"), choices=[
                (g.code, f"{g.label} ({g.source})" if g.source else g.label) for g in refusals.grounds(case.regime)])
            self.fields["legal_basis"] = forms.CharField(
                label=_("Legal basis cited in the letter"), required=False, max_length=300,
                help_text=_("Leave empty to cite the ground's source shown above."))
        if self.is_access_response:
            required = self.is_know_response
            help_text = _("One per line. Required by the CCPA.") if required else _("One per line.")
            # Not required here: services.fulfil checks the CCPA disclosures (the rule lives in one
            # place) and its ValidationError is shown on these fields.
            for name, label in KNOW_LABELS.items():
                self.fields[name] = _text(label, rows=2, required=False, help_text=help_text)
            if case.regime in ("gdpr", "uk_gdpr"):
                self.fields["retention"] = _text(_("How long we keep it (GDPR Art. 15(1)(d))"), required=False,
                                                 rows=2)
            self.fields["data_files"] = MultipleFileField(
                label=_("The data itself (files)"), required=False,
                help_text=_("JSON or CSV exports, or a ZIP of them; one category per file. Attached to the "
                            "letter's e-mail as JSON and CSV."))
            # The data read from the files, carried from the preview to the confirmation.
            self.fields["data_json"] = forms.CharField(required=False, widget=forms.HiddenInput)

    @property
    def is_access_response(self) -> bool:
        return self.outcome in ("fulfil", "partially_fulfil") and self.case.request_type_info.kind == "access"

    @property
    def is_know_response(self) -> bool:
        return self.is_access_response and self.case.regime == "ccpa" and self.case.request_type == "access"

    def clean(self):
        data = super().clean()
        if "data_files" in self.fields:
            files = data.get("data_files") or []
            if files:
                try:
                    data["data"] = uploads.read_data_files(files)
                except forms.ValidationError as exc:
                    self.add_error("data_files", exc)
            elif data.get("data_json"):
                try:
                    parsed = json.loads(data["data_json"])
                except ValueError:
                    parsed = None
                if not isinstance(parsed, dict):
                    self.add_error("data_files", _("Upload the files again."))
                else:
                    data["data"] = parsed
        return data

    def data_json(self) -> str:
        """The data read from the files, for the hidden field of the confirmation."""
        data = self.cleaned_data.get("data")
        return json.dumps(data, ensure_ascii=False) if data else ""

    def decision(self) -> dict:
        d = self.cleaned_data
        decision = {}
        for name in ("actions", "retained", "retention", *KNOW_LABELS):
            if name in self.fields and _lines(d.get(name, "")):
                decision[name] = _lines(d[name])
        if self.is_know_response:  # the service names each missing disclosure
            for name in KNOW_LABELS:
                decision.setdefault(name, [])
        for name in ("basis", "legal_basis", "data"):
            if d.get(name):
                decision[name] = d[name]
        if d.get("basis") and not d.get("legal_basis"):
            ground = refusals.ground(self.case.regime, d["basis"])
            if ground and ground.source:
                decision["legal_basis"] = ground.source
        return decision


class DetermineForm(VersionedForm):
    """LFPDPPP (2025): communicate whether the request is admissible within 20 business days."""

    admissible = forms.TypedChoiceField(label=_("Determination"), coerce=lambda v: v == "yes",
                                        widget=forms.RadioSelect, choices=[
                                            ("yes", _("Admissible — 15 business days to make it effective")),
                                            ("no", _("Inadmissible"))])
    reasons = _text(_("Reasons"), required=False, rows=3, help_text=_("Required for an inadmissible request."))

    def clean(self):
        data = super().clean()
        if data.get("admissible") is False and not (data.get("reasons") or "").strip():
            self.add_error("reasons", _("An inadmissible determination must state its reasons."))
        return data


class WithdrawForm(VersionedForm):
    reason = _text(_("How did the requester withdraw?"), rows=2)


class CloseNotFiledForm(VersionedForm):
    reason = _text(_("Why is the request closed as not filed?"), rows=2,
                   help_text=_("E.g. never confirmed its e-mail, never verified, no reply to a request for "
                               "information within the legal window."))


class ExtendForm(VersionedForm):
    kind = forms.ChoiceField(label=_("Clock"))
    reason = _text(_("Reason for the extension (sent to the requester)"), rows=3)

    def __init__(self, *args, clocks=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [(d.kind, f"{d.kind.replace('_', ' ')} — due {d.due_date:%a %d %b %Y} → "
                                                f"{d.extended_due_date:%a %d %b %Y}") for d in clocks]


class AssignForm(VersionedForm):
    assignee = forms.ChoiceField(label=_("Assign to"))

    def __init__(self, *args, staff=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].choices = [("none", _("Nobody (unassigned)"))] + [
            (str(u.pk), u.get_username()) for u in staff]


class NoteForm(VersionedForm):
    text = _text(_("Internal note (never sent to the requester)"), rows=3)


class RevealForm(VersionedForm):
    pass


class AppealVersionedForm(VersionedForm):
    appeal_version = forms.IntegerField(widget=forms.HiddenInput)


class StartReviewForm(AppealVersionedForm):
    pass


class AppealDecisionForm(AppealVersionedForm):
    outcome = forms.ChoiceField(label=_("Outcome"), widget=forms.RadioSelect, choices=[
        (AppealState.UPHELD, _("Uphold the decision (appeal denied)")),
        (AppealState.PARTIALLY_REVERSED, _("Partially reverse")),
        (AppealState.REVERSED, _("Reverse the decision")),
    ])
    reasons = _text(_("Written reasons (sent to the requester)"), rows=4,
                    help_text=_("If the appeal is denied in whole or in part, the letter tells the requester how "
                                "to contact their Attorney General."))


class AppealExtendForm(VersionedForm):
    reason = _text(_("Reason for extending the appeal decision (sent to the requester)"), rows=3)


class RecordAppealForm(ArrivalForm):
    statement = _text(_("The requester's appeal (as received)"), rows=3)
    arrival_label = _("When did the appeal arrive?")
    late_reason = _text(_("Accept although late, because…"), required=False, rows=2,
                        help_text=_("Only if the appeal window has closed; managers only."))


# --- deadline calculator ----------------------------------------------------------------------------

class DateInput(forms.DateInput):
    input_type = "date"


def jurisdiction_choices() -> list:
    """Every jurisdiction the registry knows, grouped under its regime (the calculator's select)."""
    return [("", _("Choose a country or US state"))] + jurisdiction_groups()


def request_type_choices(jurisdiction: str | None) -> list:
    """The request types of the chosen jurisdiction's regime; before one is chosen, all of them,
    grouped by regime (without JavaScript the page offers them all, then narrows on submit)."""
    return [("", _("Choose a request type"))] + request_type_groups(jurisdiction)


class CalculatorForm(forms.Form):
    """The inputs of `manage.py dsar_deadlines`. Jurisdiction and request type are selects (issue 11);
    they stay free-text fields underneath, so that the registry gives the error message."""

    jurisdiction = forms.CharField(max_length=8, help_text=_("ISO 3166-1 alpha-2 (DE, GB, BR, MX) or a US "
                                                             "state (US-CA)"),
                                   widget=forms.Select(attrs={"data-calc": "jurisdiction"}))
    request_type = forms.CharField(label=_("Request type"), max_length=40,
                                   widget=forms.Select(attrs={"data-calc": "request_type"}))
    received = forms.DateField(widget=DateInput, help_text=_("lfpdppp: the complete request; nrs603a: the verified "
                                                            "request"))
    decision_sent = forms.DateField(required=False, widget=DateInput, label=_("Decision sent"))
    appeal_received = forms.DateField(required=False, widget=DateInput, label=_("Appeal received"))
    communicated = forms.DateField(required=False, widget=DateInput,
                                   label=_("Admissibility communicated (lfpdppp)"))

    def __init__(self, data=None, *args, **kwargs):
        if data is not None and data.get("jurisdiction"):
            data = data.copy()
            data["jurisdiction"] = data["jurisdiction"].strip().upper()
        super().__init__(data, *args, **kwargs)
        chosen = (self.data.get("jurisdiction") if self.is_bound else None) or self.initial.get("jurisdiction")
        self.fields["jurisdiction"].widget.choices = jurisdiction_choices()
        self.fields["request_type"].widget.choices = request_type_choices(chosen)

    def clean(self):
        data = super().clean()
        code = (data.get("jurisdiction") or "").strip().upper()
        if code:
            try:
                jur = R.jurisdiction(code)
            except R.RegimeError as exc:
                self.add_error("jurisdiction", str(exc))
                return data
            data["jurisdiction"] = jur.code
            rtype = (data.get("request_type") or "").strip()
            if rtype:
                try:
                    jur.regime.request_type(rtype)
                except R.RegimeError as exc:
                    self.add_error("request_type", str(exc))
        return data

    def command_line(self) -> str:
        d = self.cleaned_data
        parts = [f"--jurisdiction {d['jurisdiction']}", f"--type {d['request_type']}",
                 f"--received {d['received']:%Y-%m-%d}"]
        for name in ("decision_sent", "appeal_received", "communicated"):
            if isinstance(d.get(name), dt.date):
                parts.append(f"--{name.replace('_', '-')} {d[name]:%Y-%m-%d}")
        return "python manage.py dsar_deadlines " + " ".join(parts)
