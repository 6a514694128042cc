"""The requester's status page, reached only through a signed status link, and what the
requester may do from it: answer a request for information, withdraw, appeal, download letters.
Also the form that re-sends the status link to the e-mail address on file.
"""
from __future__ import annotations

import io
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from .. import enqueue, letters, notify, public_display, ratelimit, services
from .. import regimes as R
from ..forms import AppealForm, ReplyForm, ResendLinkForm, WithdrawForm
from ..models import DataSubjectRequest, LetterStatus, State
from ..tokens import STATUS, BadToken, make_token, read_token
from .public import bad_link, private_page, use_case_language

APPEALABLE = services.APPEALABLE_STATES  # closing as not filed is a refusal too (spec section 5)
REASONED = (State.DENIED, State.PARTIALLY_FULFILLED, State.INADMISSIBLE)


def _load(request, token):
    try:
        case = read_token(token, STATUS)
    except BadToken as exc:
        return None, bad_link(request, exc, STATUS)
    use_case_language(request, case)
    return case, None


def _back(token):
    return redirect("public:status", token=token)


def _too_many(request) -> bool:
    return not ratelimit.allow(request, "status")


@private_page
def status(request, token):
    case, error = _load(request, token)
    if error:
        return error
    return _page(request, case, token)


def _page(request, case, token, *, reply_form=None, appeal_form=None, status=200):
    """One query each for events, deadlines, letters, appeals and the cases filed together:
    the page costs the same however long the history is."""
    regime = case.regime_info
    events = list(case.events.filter(public=True))
    clocks = list(case.deadlines.exclude(kind=R.CONFIRM_EMAIL))
    letters = list(case.letters.filter(status=LetterStatus.ISSUED))
    appeals = list(case.appeals.all())
    siblings = list(DataSubjectRequest.objects.filter(batch_id=case.batch_id).exclude(pk=case.pk).order_by("pk"))

    asked = None
    if case.state == State.AWAITING_REQUESTER:
        asked_events = [e for e in events if e.kind == "request_information"]
        asked = asked_events[-1].reason if asked_events else ""

    window = max((d for d in clocks if d.kind == R.APPEAL_WINDOW), key=lambda d: d.pk, default=None)
    appeal = appeals[-1] if appeals else None
    may_appeal = regime.has_appeals and case.state in APPEALABLE and appeal is None
    window_open = bool(window and timezone.now() <= window.due_at)

    respond = next((d for d in clocks if appeal and d.kind == R.APPEAL_RESPOND and d.appeal_id == appeal.pk
                    and d.is_open), None)
    return render(request, "requests_app/public/status.html", {
        "case": case, "token": token, "regime": regime, "tz": case.jurisdiction_info.timezone,
        "request_label": _(case.request_type_info.label),
        "state_label": public_display.state_label(case),
        "state_explanation": public_display.state_explanation(case.state),
        "timeline": public_display.timeline(events),
        "deadlines": public_display.deadlines(clocks),
        "letters": [(letter, public_display.letter_label(letter.kind)) for letter in letters],
        "awaiting": case.state == State.AWAITING_REQUESTER,
        "awaiting_label": public_display.AWAITING_LABELS[case.awaiting]() if case.awaiting in
        public_display.AWAITING_LABELS else "",
        "asked": asked,
        "reply_form": reply_form or ReplyForm(),
        "may_withdraw": case.is_open,
        "may_appeal": may_appeal and window_open,
        "appeal_closed": may_appeal and window is not None and not window_open,
        "appeal_window": window,
        "appeal": appeal,
        "appeal_text": public_display.appeal_text(
            appeal, timezone.localtime(appeal.received_at, ZoneInfo(case.jurisdiction_info.timezone)).date(),
            respond.due_date if respond else None) if appeal else "",
        # The reasons of a refusal are on the page, not only in the PDF.
        "reasons": case.decision_reasons if case.state in REASONED else "",
        "appeal_form": appeal_form or AppealForm(),
        "siblings": [(s, _(s.request_type_info.label), make_token(s, STATUS), public_display.state_label(s))
                     for s in siblings],
    }, status=status)


@private_page
@require_POST
def reply(request, token):
    case, error = _load(request, token)
    if error:
        return error
    form = ReplyForm(request.POST, request.FILES)
    if _too_many(request):
        form.is_valid()
        form.add_error(None, _("Too many attempts from your connection. Please try again in an hour."))
        return _page(request, case, token, reply_form=form, status=429)
    if case.state != State.AWAITING_REQUESTER:
        messages.error(request, _("This request is not waiting for an answer from you."))
        return _back(token)
    if form.is_valid():
        try:
            services.receive_reply(case, message=form.cleaned_data["message"],
                                   upload=form.cleaned_data.get("document"))
        except services.ServiceError:  # answered meanwhile (another tab): say so, keep nothing twice
            messages.error(request, _("This request is not waiting for an answer from you."))
        else:
            messages.success(request, _("Thank you. We have received your answer."))
        return _back(token)
    return _page(request, case, token, reply_form=form)


@private_page
@require_http_methods(["GET", "POST"])
def withdraw(request, token):
    case, error = _load(request, token)
    if error:
        return error
    if not case.is_open:
        messages.info(request, _("This request is already closed."))
        return _back(token)
    form = WithdrawForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if _too_many(request):
            form.add_error(None, _("Too many attempts from your connection. Please try again in an hour."))
        else:
            try:
                services.withdraw(case, reason=form.cleaned_data["reason"])
            except services.ServiceError:
                messages.info(request, _("This request is already closed."))
            else:
                messages.success(request, _("Your request was withdrawn. We have sent you a confirmation."))
            return _back(token)
    return render(request, "requests_app/public/withdraw.html", {
        "case": case, "token": token, "form": form, "request_label": _(case.request_type_info.label)})


@private_page
@require_POST
def appeal(request, token):
    case, error = _load(request, token)
    if error:
        return error
    form = AppealForm(request.POST)
    if _too_many(request):
        form.is_valid()
        form.add_error(None, _("Too many attempts from your connection. Please try again in an hour."))
        return _page(request, case, token, appeal_form=form, status=429)
    if form.is_valid():
        try:
            services.file_appeal(case, statement=form.cleaned_data["statement"])
        except services.AppealWindowClosed:
            window = case.deadlines.filter(kind=R.APPEAL_WINDOW).order_by("-pk").first()
            rule = case.regime_info.appeal
            form.add_error(None, _(
                "The time to appeal has ended: it closed on %(date)s. An appeal must be made within %(period)s "
                "of our decision (%(source)s).") % {
                "date": public_display.format_date(window.due_date) if window else "—",
                "period": public_display.period_text(rule.window), "source": rule.window_source})
        except services.ServiceError:
            messages.error(request, _("This decision cannot be appealed, or it has already been appealed."))
            return _back(token)
        else:
            messages.success(request, _("We have received your appeal and sent you a confirmation."))
            return _back(token)
    return _page(request, case, token, appeal_form=form)


@private_page
def letter(request, token, letter_id: int, part: str = "pdf"):
    """An issued letter of this case (part 'pdf'), or the data sent with an access response
    ('json', 'csv'). letters.open_for_download checks the SHA-256 and writes the audit event."""
    case, error = _load(request, token)
    if error:
        return error
    if part not in letters.PARTS:
        raise Http404("No such file")
    item = case.letters.filter(pk=letter_id, status=LetterStatus.ISSUED).first()  # only this case's letters
    if item is None:
        raise Http404("No such letter")
    try:
        download = letters.open_for_download(item, actor_label=services.REQUESTER, part=part)
    except letters.LetterIntegrityError:
        # Audited as letter_integrity_failed; the requester gets the status page, never a broken file.
        messages.error(request, _(
            "We could not give you this letter: our stored copy failed its integrity check, so we did not "
            "send it. The failed attempt is recorded for our privacy team; please contact us quoting "
            "reference %(reference)s.") % {"reference": case.reference})
        return _back(token)
    except letters.LetterNotReady:
        raise Http404("No such file")
    # The requester's file name: the reference and the kind of letter, as before.
    filename = f"{case.reference}-{item.kind}.pdf" if part == "pdf" else download.filename
    return FileResponse(io.BytesIO(download.content), as_attachment=True, filename=filename,
                        content_type=download.content_type)


@require_http_methods(["GET", "POST"])
def resend(request):
    """Send the status link again, to the e-mail address on file. The answer is the same whether
    or not the request exists, so the form cannot be used to learn who made a request."""
    sent = False
    status = 200
    if request.method == "POST":
        form = ResendLinkForm(request.POST)
        if form.is_valid():
            email = form.cleaned_data["email"]
            if not ratelimit.allow(request, "resend", email=email):
                form.add_error(None, _("Too many attempts. Please try again in an hour."))
                status = 429
            else:
                if not form.cleaned_data.get("website"):
                    # The same work whether or not the reference and address match (the look-up runs
                    # in the worker), so the answer's timing tells nothing. Broker down: done here.
                    reference = form.cleaned_data.get("reference", "")
                    if not enqueue.send_status_link(reference, email):
                        notify.send_status_link(reference, email)
                sent = True
    else:
        form = ResendLinkForm()
    return render(request, "requests_app/public/resend.html", {"form": form, "sent": sent}, status=status)


