"""The public request form, the Global Privacy Control opt-out and the confirmation link.

The form is a wizard kept in the visitor's session (no JavaScript needed, and nothing typed is
lost when a step has errors or the visitor goes back): every step is its own URL with a normal
POST → redirect → GET cycle, and writes its cleaned answers under SESSION_KEY. A step reached
before its prerequisites redirects to the first step still missing. Only the final POST on the
review page writes to the database, through services.submit_request, in one transaction. An
uploaded authorisation is checked on upload and parked in storage (uploads.park), not in the
session.

Steps: where you live → your rights under that law → which requests → who you are → review.
"""
from __future__ import annotations

import hashlib
import json
import logging
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from .. import hooks, public_display, ratelimit, services, uploads
from .. import regimes as R
from ..forms import (
    ON_BEHALF,
    GpcOptOutForm,
    IdentityForm,
    LocationForm,
    OptOutForm,
    RequestTypesForm,
    ReviewForm,
    place_name,
)
from ..models import DataSubjectRequest, State
from ..tokens import AGENT_PERMISSION, CONFIRM, MAX_AGE, STATUS, BadToken, read_expired_token, read_token

log = logging.getLogger(__name__)

SESSION_KEY = "dsar_form"
GPC_SESSION_KEY = "dsar_gpc"
DONE_SESSION_KEY = "dsar_submitted"

# The request a Global Privacy Control signal stands for, where the law gives that right.
GPC_REQUEST_TYPES = {
    "ccpa": "opt_out_sale_sharing",  # 11 CCR §7025(b): treat an opt-out preference signal as a request to opt out
    "cpa": "opt_out",  # C.R.S. 6-1-1306(1)(a)(IV); 4 CCR 904-3 Rule 5: universal opt-out mechanisms
    "ctdpa": "opt_out",  # Conn. Gen. Stat. 42-520(a)(1)(A)(ii): opt-out preference signals
    "vcdpa": "opt_out",  # Va. Code 59.1-577(A)(5): honoured as an opt-out request (no signal mandate)
    "ucpa": "opt_out",  # Utah Code 13-61-201(4): honoured as an opt-out request (no signal mandate)
    "nrs603a": "opt_out_sale",  # NRS 603A.345: honoured as a verified opt-out of sale
    "voluntary": "opt_out",  # company privacy policy
}

STEPS = ("where", "rights", "requests", "identity", "review")
STEP_URLS = {"where": "public:start", "rights": "public:rights", "requests": "public:requests",
             "identity": "public:identity", "review": "public:review"}


def step_titles():
    return {"where": _("Where you live"), "rights": _("Your rights"), "requests": _("Your request"),
            "identity": _("About you"), "review": _("Check and send")}


def current_language() -> str:
    return (translation.get_language() or "en").lower()


def gpc_signal(request) -> bool:
    """Global Privacy Control: browsers send `Sec-GPC: 1` (GPC specification, section 3)."""
    return request.headers.get("Sec-GPC", "").strip() == "1"


class Wizard:
    """The answers given so far, in the session."""

    def __init__(self, request):
        self.session = request.session
        self.data: dict = dict(request.session.get(SESSION_KEY, {}))

    def save(self) -> None:
        self.session[SESSION_KEY] = self.data

    def clear(self) -> None:
        self.session.pop(SESSION_KEY, None)

    @property
    def jurisdiction(self) -> R.Jurisdiction | None:
        code = self.data.get("jurisdiction")
        try:
            return R.jurisdiction(code) if code else None
        except R.UnknownJurisdiction:
            return None

    @property
    def regime(self) -> R.Regime | None:
        jur = self.jurisdiction
        return jur.regime if jur else None

    def set_jurisdiction(self, jur: R.Jurisdiction, country: str, us_state: str) -> list[str]:
        """Record the place; return the labels of the requests the new law does not give."""
        old_regime = self.regime
        changed = self.data.get("jurisdiction") != jur.code
        self.data.update(jurisdiction=jur.code, country=country, us_state=us_state)
        dropped: list[str] = []
        if changed:
            # Answers that the new law may not allow are dropped; what still fits is kept.
            regime = jur.regime
            chosen = self.data.get("request_types", [])
            types = [t for t in chosen if t in regime.request_type_codes]
            dropped = [_(old_regime.request_type(t).label) for t in chosen if t not in types and old_regime]
            self.data["request_types"] = types
            identity = self.data.get("identity")
            if identity and (identity.get("filer") not in regime.filers or
                             (regime.code == "lfpdppp") != identity.get("mexico", False)):
                self.data["identity_incomplete"] = True
        return dropped

    def done(self, step: str) -> bool:
        regime = self.regime
        if step == "where":
            return regime is not None
        if step == "rights":
            return regime is not None
        if step == "requests":  # Mexico also needs the description of the data (LFPDPPP)
            return bool(self.data.get("request_types")) and (regime.code != "lfpdppp" or bool(self.data.get("details")))
        if step == "identity":
            return bool(self.data.get("identity")) and not self.data.get("identity_incomplete")
        return False

    def first_missing(self, before: str) -> str | None:
        for step in STEPS[: STEPS.index(before)]:
            if not self.done(step):
                return step
        return None


def _guard(request, step: str):
    """(wizard, None) when the step may be shown, else (wizard, redirect to the missing step)."""
    wizard = Wizard(request)
    missing = wizard.first_missing(step)
    if missing:
        if missing != "where" or wizard.data:
            messages.info(request, _("Please answer this step first."))
        return wizard, redirect(STEP_URLS[missing])
    return wizard, None


def _render_step(request, step: str, template: str, context: dict, status: int = 200):
    titles = step_titles()
    context.update(
        step=step, step_number=STEPS.index(step) + 1, step_count=len(STEPS),
        steps=[{"key": s, "title": titles[s], "url": reverse(STEP_URLS[s]),
                "current": s == step, "done": STEPS.index(s) < STEPS.index(step)} for s in STEPS],
        step_title=titles[step],
    )
    return render(request, template, context, status=status)


# --- step 1 -----------------------------------------------------------------------------------------

@require_http_methods(["GET", "POST"])
def start(request):
    wizard = Wizard(request)
    gpc = gpc_signal(request)
    if request.method == "POST":
        form = LocationForm(request.POST)
        if form.is_valid():
            jur = form.cleaned_data["jurisdiction"]
            had_answers = bool(wizard.data.get("request_types"))
            dropped = wizard.set_jurisdiction(jur, form.cleaned_data["country"], form.cleaned_data["us_state"])
            wizard.save()
            if dropped or (had_answers and wizard.data.get("identity_incomplete")):
                # Say what the change of law undid, and go back to the step that needs a new answer.
                if dropped:
                    messages.warning(request, _(
                        "The law where you live now (%(law)s) does not give these rights, so we removed them "
                        "from your request: %(rights)s. Please check what you would like us to do.") % {
                        "law": jur.regime.name, "rights": ", ".join(dropped)})
                    return redirect("public:requests")
                messages.warning(request, _(
                    "The law where you live now (%(law)s) asks for other details about you. Please check them.")
                    % {"law": jur.regime.name})
                return redirect(STEP_URLS[wizard.first_missing("review") or "identity"])
            if "gpc_opt_out" in request.POST:
                if jur.regime.code in GPC_REQUEST_TYPES:
                    request.session[GPC_SESSION_KEY] = jur.code
                    return redirect("public:opt_out")
                messages.info(request, _(
                    "The law where you live (%(law)s) gives no right to opt out of the sale of personal data. "
                    "Here are the rights it gives you.") % {"law": jur.regime.name})
            return redirect("public:rights")
    else:
        form = LocationForm(initial={"country": wizard.data.get("country", ""),
                                     "us_state": wizard.data.get("us_state", "")})
    return _render_step(request, "where", "requests_app/public/step_where.html",
                        {"form": form, "gpc": gpc}, status=200)


# --- step 2 -----------------------------------------------------------------------------------------

def rights(request):
    wizard, bounce = _guard(request, "rights")
    if bounce:
        return bounce
    jur = wizard.jurisdiction
    regime = jur.regime
    if gpc_signal(request) and regime.code in GPC_REQUEST_TYPES:
        request.session[GPC_SESSION_KEY] = jur.code  # offer the one-click opt-out here too
    return _render_step(request, "rights", "requests_app/public/step_rights.html", {
        "jurisdiction": jur, "place": place_name(jur.code), "regime": regime,
        "rights": [{"label": _(t.label), "description": _(t.description), "citation": public_display.citation(t.citation)}
                   for t in regime.request_types],
        "filers": [_(R.FILER_LABELS[f]) for f in ("self", "agent", "legal_representative", "parent")
                   if f in regime.filers],
        "answer_times": public_display.answer_times(regime),
        "statutory": regime.code != "voluntary",
        "gpc_offer": gpc_signal(request) and regime.code in GPC_REQUEST_TYPES,
    })


# --- step 3 -----------------------------------------------------------------------------------------

@require_http_methods(["GET", "POST"])
def requests_step(request):
    wizard, bounce = _guard(request, "requests")
    if bounce:
        return bounce
    regime = wizard.regime
    if request.method == "POST":
        form = RequestTypesForm(regime, request.POST)
        if form.is_valid():
            wizard.data["request_types"] = form.cleaned_data["request_types"]
            wizard.data["details"] = form.cleaned_data["details"]
            wizard.save()
            return redirect("public:identity")
    else:
        form = RequestTypesForm(regime, initial={"request_types": wizard.data.get("request_types", []),
                                                 "details": wizard.data.get("details", "")})
    return _render_step(request, "requests", "requests_app/public/step_requests.html",
                        {"form": form, "regime": regime, "place": place_name(wizard.jurisdiction.code)})


# --- step 4 -----------------------------------------------------------------------------------------

IDENTITY_FIELDS = ("filer", "requester_name", "requester_email", "account_id", "phone", "registered_email",
                   "data_description", "agent_name", "agent_email", "agent_organisation", "power_of_attorney")


@require_http_methods(["GET", "POST"])
def identity(request):
    wizard, bounce = _guard(request, "identity")
    if bounce:
        return bounce
    regime = wizard.regime
    parked = wizard.data.get("upload")
    if request.method == "POST":
        form = IdentityForm(regime, request.POST, request.FILES, parked=parked)
        if form.is_valid():
            data = form.cleaned_data
            if data.get("website"):
                return _pretend_success(request, wizard)
            identity = {f: data.get(f, "") for f in IDENTITY_FIELDS if f in form.fields}
            identity["mexico"] = regime.code == "lfpdppp"
            if data["filer"] not in ON_BEHALF:
                identity.update(agent_name="", agent_email="", agent_organisation="", power_of_attorney=False)
            upload = data.get("authorisation")
            if upload is not None:
                uploads.discard(parked)
                wizard.data["upload"] = uploads.park(upload, form.original_name)
            elif data["filer"] not in ON_BEHALF and parked:
                uploads.discard(parked)
                wizard.data.pop("upload", None)
            wizard.data["identity"] = identity
            wizard.data.pop("identity_incomplete", None)
            wizard.save()
            return redirect("public:review")
    else:
        form = IdentityForm(regime, initial=wizard.data.get("identity") or {"filer": R.SELF}, parked=parked)
    return _render_step(request, "identity", "requests_app/public/step_identity.html",
                        {"form": form, "regime": regime, "parked": parked, "on_behalf": ON_BEHALF})


def _pretend_success(request, wizard):
    """A robot filled the honeypot: answer as if all went well, store nothing."""
    uploads.discard(wizard.data.get("upload"))
    wizard.clear()
    request.session[DONE_SESSION_KEY] = {"references": [], "email": "", "bot": True}
    return redirect("public:thanks")


# --- review and submit -----------------------------------------------------------------------------------

@require_http_methods(["GET", "POST"])
def review(request):
    if request.method == "POST" and not request.session.get(SESSION_KEY) and request.session.get(DONE_SESSION_KEY):
        return redirect("public:thanks")  # a second click on "Send" after the first one went through
    wizard, bounce = _guard(request, "review")
    if bounce:
        return bounce
    jur, regime, data = wizard.jurisdiction, wizard.regime, wizard.data
    identity = data["identity"]
    upload_info = data.get("upload")
    status = 200
    if request.method == "POST":
        form = ReviewForm(request.POST)
        if form.is_valid():
            email = identity["requester_email"]
            gate = hooks.submission_gate_url(request, email, data["request_types"])
            if gate:
                return redirect(gate)
            if not ratelimit.allow(request, "submit", email=email, emails=[identity.get("agent_email", "")]):
                form.add_error(None, _("You have sent many requests in a short time. Your answers are kept: "
                                       "please try again in an hour."))
                status = 429
            elif not _claim_submission(request):
                return redirect("public:thanks")  # the same answers are being stored by a parallel click
            else:
                upload = uploads.unpark(upload_info) if identity["filer"] in ON_BEHALF else None
                if identity["filer"] in ON_BEHALF and upload is None:
                    _release_submission(request)
                    wizard.data["identity_incomplete"] = True
                    wizard.data.pop("upload", None)
                    wizard.save()
                    messages.error(request, _("Please upload the authorisation again."))
                    return redirect("public:identity")
                try:
                    cases = services.submit_request(
                        jurisdiction=jur.code, request_types=data["request_types"],
                        requester_name=identity["requester_name"], requester_email=email,
                        language=current_language(), filer=identity["filer"],
                        account_id=identity.get("account_id", ""), phone=identity.get("phone", ""),
                        # Mexico's step 3 asks for the description of the data (LFPDPPP), once.
                        data_description=data.get("details", "") if regime.code == "lfpdppp" else "",
                        details="" if regime.code == "lfpdppp" else data.get("details", ""),
                        agent_name=identity.get("agent_name", ""), agent_email=identity.get("agent_email", ""),
                        agent_organisation=identity.get("agent_organisation", ""), authorisation=upload,
                        power_of_attorney=bool(identity.get("power_of_attorney")),
                    )
                except ValidationError as exc:  # the service's own checks: show them, keep everything
                    _release_submission(request)
                    for message in exc.messages:
                        form.add_error(None, message)
                else:
                    uploads.discard(upload_info)
                    wizard.clear()
                    request.session[DONE_SESSION_KEY] = {"references": [c.reference for c in cases],
                                                         "email": email}
                    return redirect("public:thanks")
    else:
        form = ReviewForm()
    types = [regime.request_type(code) for code in data["request_types"]]
    return _render_step(request, "review", "requests_app/public/step_review.html", {
        "form": form, "jurisdiction": jur, "place": place_name(jur.code), "regime": regime,
        "request_types": [_(t.label) for t in types], "details": data.get("details", ""),
        "identity": identity, "filer_label": _(R.FILER_LABELS[identity["filer"]]),
        "on_behalf": identity["filer"] in ON_BEHALF, "upload": upload_info,
    }, status=status)


def _claim_submission(request) -> bool:
    """Two clicks on "Send" can arrive at once and both read the same session: only the first
    stores the request. The claim names the session and the answers, and expires after a few
    seconds, so a different request from the same browser goes through."""
    if not request.session.session_key:
        request.session.save()
    try:
        return cache.add(_submission_key(request), 1, timeout=10)
    except Exception:  # noqa: BLE001 - cache down: store the request (the session's done-marker still guards)
        log.warning("double-submit guard skipped: the cache is unavailable", exc_info=True)
        return True


def _release_submission(request) -> None:
    try:
        cache.delete(_submission_key(request))
    except Exception:  # noqa: BLE001 - the claim expires by itself
        log.warning("could not release the double-submit guard: the cache is unavailable", exc_info=True)


def _submission_key(request) -> str:
    answers = json.dumps(request.session.get(SESSION_KEY, {}), sort_keys=True, default=str)
    digest = hashlib.sha256(f"{request.session.session_key}:{answers}".encode()).hexdigest()[:32]
    return f"dsar:submitting:{digest}"


def thanks(request):
    done = request.session.get(DONE_SESSION_KEY)
    if not done:
        return redirect("public:start")
    references = done.get("references", [])
    cases = list(DataSubjectRequest.objects.filter(reference__in=references))
    opt_outs_only = bool(cases) and all(c.request_type_info.is_opt_out for c in cases)
    return render(request, "requests_app/public/thanks.html", {
        "references": references, "email": done.get("email", ""),
        "confirm_days": settings.DSAR_CONFIRMATION_DAYS,
        "opt_outs_only": opt_outs_only,
        # Without an e-mail address the status link is only given here.
        "status_urls": [services.status_url(c) for c in cases] if opt_outs_only and not done.get("email") else [],
    })


# --- Global Privacy Control ----------------------------------------------------------------------

@require_http_methods(["GET", "POST"])
def opt_out(request):
    """One-click opt-out offered to browsers that send Global Privacy Control: only a name and an
    e-mail address are asked (the e-mail is confirmed; an opt-out needs no identity verification,
    11 CCR §7026(d))."""
    code = request.session.get(GPC_SESSION_KEY)
    try:
        jur = R.jurisdiction(code) if code else None
    except R.UnknownJurisdiction:
        jur = None
    if jur is None or jur.regime.code not in GPC_REQUEST_TYPES:
        return redirect("public:start")
    rtype = jur.regime.request_type(GPC_REQUEST_TYPES[jur.regime.code])
    status = 200
    # 11 CCR §7025: with the signal, the opt-out needs no name and no e-mail (an e-mail is optional).
    form_class = GpcOptOutForm if gpc_signal(request) else OptOutForm
    if request.method == "POST":
        form = form_class(request.POST)
        if form.is_valid():
            if form.cleaned_data.get("website"):
                return _pretend_success(request, Wizard(request))
            email = form.cleaned_data["requester_email"]
            if not ratelimit.allow(request, "submit", email=email):
                form.add_error(None, _("You have sent many requests in a short time. Please try again in an hour."))
                status = 429
            else:
                cases = services.submit_request(
                    jurisdiction=jur.code, request_types=[rtype.code],
                    requester_name=form.cleaned_data.get("requester_name", ""), requester_email=email,
                    language=current_language(), via_gpc=gpc_signal(request),
                )
                request.session.pop(GPC_SESSION_KEY, None)
                request.session[DONE_SESSION_KEY] = {"references": [c.reference for c in cases], "email": email}
                return redirect("public:thanks")
    else:
        identity = Wizard(request).data.get("identity") or {}
        form = form_class(initial={"requester_name": identity.get("requester_name", ""),
                                   "requester_email": identity.get("requester_email", "")})
    return render(request, "requests_app/public/opt_out.html", {
        "form": form, "jurisdiction": jur, "place": place_name(jur.code), "regime": jur.regime,
        "request_type": rtype, "request_label": _(rtype.label), "request_description": _(rtype.description),
    }, status=status)


# --- links from e-mails ---------------------------------------------------------------------------

def private_page(view):
    """Pages reached through a secret link: never cached by a proxy or the browser's back store,
    never indexed, and the token never leaks in a Referer header to another site."""
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        patch_cache_control(response, private=True, no_store=True)
        response["Referrer-Policy"] = "same-origin"  # no-referrer would make Chrome send "Origin: null" and fail CSRF
        response["X-Robots-Tag"] = "noindex, nofollow"
        return response

    return wrapper


def use_case_language(request, case) -> None:
    """Pages reached from our e-mails speak the language the request was made in, unless the
    visitor picked another one with the language switch (the cookie set_language writes)."""
    if request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME):
        return
    translation.activate(case.language)
    request.LANGUAGE_CODE = translation.get_language()


def bad_link(request, exc: BadToken, purpose: str):
    """400 for a tampered link, 410 Gone for an expired one: a page, never a traceback."""
    return render(request, "requests_app/public/bad_link.html",
                  {"expired": exc.expired, "purpose": purpose}, status=410 if exc.expired else 400)


@private_page
@require_http_methods(["GET", "POST"])
def confirm(request, token):
    """Confirm the e-mail address. Idempotent (services.confirm_email does nothing twice) and
    confirms every request filed together, since they share the address."""
    try:
        case = read_token(token, CONFIRM)
    except BadToken as exc:
        # A confirmed request's old link says what became of it and opens its status page; a
        # status link may live that long (the same person opened both from their mailbox).
        case = exc.expired and read_expired_token(token, CONFIRM, MAX_AGE[STATUS]())
        if not case or not case.email_confirmed_at:
            return bad_link(request, exc, CONFIRM)
        use_case_language(request, case)
        return render(request, "requests_app/public/bad_link.html", {
            "expired": True, "purpose": CONFIRM, "case": case, "state_label": public_display.state_label(case),
            "status_url": services.status_url(case)}, status=410)
    use_case_language(request, case)
    batch = list(DataSubjectRequest.objects.filter(batch_id=case.batch_id,
                                                   requester_email__iexact=case.requester_email).order_by("pk"))
    pending = [item for item in batch if item.state == State.SUBMITTED]
    if pending and request.method != "POST":
        # Confirm on an explicit POST only: mail scanners that pre-fetch links must not confirm.
        return render(request, "requests_app/public/confirm_prompt.html", {
            "case": case, "cases": [(c, _(c.request_type_info.label)) for c in pending]})
    confirmed = []
    for item in batch:
        if item.state == State.SUBMITTED:
            item = services.confirm_email(item)
        confirmed.append(item)
    return render(request, "requests_app/public/confirmed.html", {
        "case": case, "cases": [(c, services.status_url(c), _(c.request_type_info.label),
                                 public_display.state_label(c)) for c in confirmed],
        "status_url": services.status_url(case),
        "closed": case.state == State.NOT_FILED,
    })



@private_page
@require_http_methods(["GET", "POST"])
def agent_permission(request, token):
    """The consumer confirms, directly, that they gave the agent permission (11 CCR §7063(a)); the
    agent's own confirmation never stands for it. A POST only: mail scanners prefetch links."""
    try:
        case = read_token(token, AGENT_PERMISSION)
    except BadToken as exc:
        return bad_link(request, exc, AGENT_PERMISSION)
    use_case_language(request, case)
    done = ""
    if request.method == "POST" and request.POST.get("answer") in ("yes", "no"):
        if request.POST["answer"] == "yes":
            services.confirm_agent_permission(case)
            done = _("Thank you. You have confirmed that %(agent)s acts for you.") % {"agent": case.agent_name}
        else:
            services.refuse_agent_permission(case)
            done = _("Thank you. We will take no action on the requests this agent made.")
    elif not case.awaits_consumer_permission:
        done = _("We already have your answer. Thank you.")
    batch = DataSubjectRequest.objects.filter(batch_id=case.batch_id).order_by("pk")
    return render(request, "requests_app/public/agent_permission.html", {
        "case": case, "done": done, "cases": [(c, _(c.request_type_info.label)) for c in batch]})
