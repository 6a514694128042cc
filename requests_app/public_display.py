"""What the requester reads on the status page: events, clocks, letters and states in plain words.

Raw event kinds and clock names are internal; they are never shown. Everything here is
translated when called, i.e. in the language active for the request.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import formats
import re

from django.utils.translation import get_language
from django.utils.translation import gettext as _

from . import regimes as R
from .derivations import deadline_derivation, plain_sentence
from .models import AppealState, Awaiting, DeadlineStatus, State

LETTER_LABELS = {
    "acknowledgement": lambda: _("Acknowledgement of your request"),
    "request_information": lambda: _("Request for information"),
    "extension_notice": lambda: _("Extension of the time to answer"),
    "determination": lambda: _("Decision on whether your request is admissible"),
    "fulfilment": lambda: _("Our answer to your request"),
    "denial": lambda: _("Refusal of your request"),
    "appeal_decision": lambda: _("Decision on your appeal"),
    "not_filed": lambda: _("Closure of your request"),
}


# Spanish calls the GDPR "RGPD" (Reglamento General de Protección de Datos), in citations too.
_SPANISH_CITATIONS = ((re.compile(r"\bUK GDPR\b"), "RGPD del Reino Unido"), (re.compile(r"\bGDPR\b"), "RGPD"))


def citation(text: str, language: str | None = None) -> str:
    """A legal citation in the active (or given) language: worded ones translated, acronyms localised."""
    text = _(text) if text else ""
    if (language or get_language() or "").lower().startswith("es"):
        for pattern, name in _SPANISH_CITATIONS:
            text = pattern.sub(name, text)
    return text


def letter_label(kind: str) -> str:
    label = LETTER_LABELS.get(kind)
    return label() if label else _("Letter about your request")


# Clocks the requester sees, worded from their side. CONFIRM_EMAIL is an internal timer and
# REQUEST_INFORMATION is our own window to ask; neither is shown.
DEADLINE_LABELS = {
    R.ACKNOWLEDGE: lambda: _("We confirm that we received your request by"),
    R.RESPOND: lambda: _("We must answer your request by"),
    R.REQUESTER_REPLY: lambda: _("Your answer must reach us by"),
    R.DETERMINATION: lambda: _("We tell you whether your request is admissible by"),
    R.EFFECTIVE: lambda: _("We must carry out your request by"),
    R.APPEAL_WINDOW: lambda: _("You may appeal until"),
    R.APPEAL_RESPOND: lambda: _("We must decide your appeal by"),
    R.APPEAL_ACTION: lambda: _("We must carry out what your appeal obtained by"),
}

STATE_EXPLANATIONS = {
    State.SUBMITTED: lambda: _("Please confirm your e-mail address with the link we sent you. We start work once "
                               "you confirm."),
    State.VERIFYING: lambda: _("We are checking that the request comes from you. If we need proof of identity we "
                               "will ask you here and by e-mail."),
    State.IN_PROGRESS: lambda: _("Our privacy team is working on your request."),
    State.AWAITING_REQUESTER: lambda: _("We need something from you before we can go on. See “What you can do "
                                        "now” below."),
    State.ADMISSIBLE: lambda: _("Your request was found admissible and is being carried out."),
    State.FULFILLED: lambda: _("We have answered your request. Our letter is below."),
    State.PARTIALLY_FULFILLED: lambda: _("We have answered your request in part. Our letter below gives the "
                                         "reasons."),
    State.DENIED: lambda: _("We could not act on your request. Our letter below gives the reasons."),
    State.INADMISSIBLE: lambda: _("Your request was found inadmissible. Our letter below gives the reasons."),
    State.WITHDRAWN: lambda: _("You withdrew this request. We will take no further action."),
    State.NOT_FILED: lambda: _("This request was closed without action, because it was not confirmed or "
                               "completed in time. You are welcome to make a new request."),
}

AWAITING_LABELS = {
    Awaiting.INFORMATION: lambda: _("We asked you for missing information."),
    Awaiting.IDENTITY: lambda: _("We asked you for proof of your identity."),
    Awaiting.CLARIFICATION: lambda: _("We asked you to clarify your request."),
}


# The staff labels of these two states speak of "the requester"; the requester reads these.
PUBLIC_STATE_LABELS = {
    State.SUBMITTED: lambda: _("Waiting for you to confirm your e-mail"),
    State.AWAITING_REQUESTER: lambda: _("Waiting for your answer"),
}


def state_label(case) -> str:
    label = PUBLIC_STATE_LABELS.get(case.state)
    return label() if label else case.get_state_display()


def state_explanation(state: str) -> str:
    text = STATE_EXPLANATIONS.get(state)
    return text() if text else ""


def format_date(value: dt.date | str | None) -> str:
    if not value:
        return ""
    if isinstance(value, str):
        value = dt.date.fromisoformat(value)
    return formats.date_format(value, "DATE_FORMAT")


def appeal_text(appeal, received_on: dt.date, respond_due: dt.date | None) -> str:
    """The appeal card: what happened to the appeal, with its dates (not a bare "Received")."""
    if appeal.state in (AppealState.RECEIVED, AppealState.IN_REVIEW):
        text = _("We received your appeal on %(date)s and are reviewing it.") % {
            "date": format_date(received_on)}
        if respond_due:
            text += " " + _("We must decide it by %(date)s.") % {"date": format_date(respond_due)}
        return text
    return {
        AppealState.UPHELD: _("Your appeal was decided: our decision stands."),
        AppealState.REVERSED: _("Your appeal was decided: our decision was reversed."),
        AppealState.PARTIALLY_REVERSED: _("Your appeal was decided: our decision was partly reversed."),
    }.get(appeal.state, _("Your appeal was decided."))


def event_text(event) -> str | None:
    """The sentence for a public event, or None for an event that says nothing new to the requester."""
    kind, data = event.kind, event.data or {}
    by_requester = event.actor_label == "requester"
    if kind == "submitted":
        return _("Your request was received.")
    if kind == "confirm_email":
        return _("You confirmed your e-mail address.")
    if kind == "agent_permission_requested":
        return _("We asked you to confirm that you gave your agent permission to act for you.")
    if kind == "agent_permission_confirmed":
        return _("You confirmed that your agent acts for you.")
    if kind == "accept_opt_out":
        return _("We act on your opt-out without asking you to confirm your e-mail or prove your identity.")
    if kind == "identity_verified":
        return _("Your identity was verified.")
    if kind == "verify":
        return None  # identity_verified says it
    if kind == "request_information":
        text = AWAITING_LABELS.get(data.get("what"))
        return text() if text else _("We asked you for more information.")
    if kind == "receive_reply":
        return _("We received your answer.")
    if kind == "deadline_extended":
        return _("We extended the time to answer until %(date)s.") % {"date": format_date(data.get("to"))}
    if kind == "letter_issued":
        return _("We sent you a letter: %(letter)s.") % {"letter": letter_label(data.get("kind", ""))}
    if kind == "determine_admissible":
        return _("Your request was found admissible.")
    if kind == "determine_inadmissible":
        return _("Your request was found inadmissible.")
    if kind == "fulfil":
        return _("Your request was fulfilled.")
    if kind == "partially_fulfil":
        return _("Your request was fulfilled in part.")
    if kind == "deny":
        return _("Your request was refused.")
    if kind == "withdraw":
        return _("You withdrew your request.") if by_requester else _("The request was withdrawn.")
    if kind == "close_not_filed":
        return _("The request was closed as not filed.")
    if kind == "reopen":
        return _("Your request was reopened after your appeal.")
    if kind == "appeal_filed":
        return _("You appealed against our decision.")
    if kind == "appeal_decided":
        return {
            AppealState.UPHELD: _("Your appeal was decided: our decision stands."),
            AppealState.REVERSED: _("Your appeal was decided: our decision was reversed."),
            AppealState.PARTIALLY_REVERSED: _("Your appeal was decided: our decision was partly reversed."),
        }.get(event.to_state, _("Your appeal was decided."))
    return _("Your request was updated.")


@dataclass
class TimelineItem:
    when: dt.datetime
    text: str


def timeline(events) -> list[TimelineItem]:
    items = []
    for event in events:
        text = event_text(event)
        if text:
            items.append(TimelineItem(event.created_at, text))
    return items


@dataclass
class DeadlineItem:
    label: str
    date: dt.date
    extended: bool
    status: str
    is_open: bool
    explanation: str = ""  # how the date was reached, in one plain line (issue 17)


# A closed clock, in words that fit its label ("You may appeal until … Met" read wrong).
YOUR_CLOCKS = (R.REQUESTER_REPLY, R.APPEAL_WINDOW)
CLOSED_TEXT = {
    (R.REQUESTER_REPLY, DeadlineStatus.MET): lambda: _("you answered"),
    (R.APPEAL_WINDOW, DeadlineStatus.MET): lambda: _("you appealed"),
    (R.APPEAL_WINDOW, DeadlineStatus.LAPSED): lambda: _("ended"),
    (R.REQUESTER_REPLY, DeadlineStatus.LAPSED): lambda: _("no answer arrived in time"),
    ("ours", DeadlineStatus.MET): lambda: _("done"),
    ("ours", DeadlineStatus.LAPSED): lambda: _("passed"),
}


def closed_text(kind: str, status: str) -> str:
    text = CLOSED_TEXT.get((kind if kind in YOUR_CLOCKS else "ours", status))
    return text() if text else _("no longer applies")


def deadlines(rows) -> list[DeadlineItem]:
    """The legal clocks, open ones first; closed ones are kept as a record of what was met. A
    clock replaced by a new one of its kind (LFPDPPP: the determination restarts after a reply)
    is left out: one date per promise."""
    rows = list(rows)
    live = {d.kind for d in rows if d.status != DeadlineStatus.CANCELLED}
    items = []
    for d in rows:
        label = DEADLINE_LABELS.get(d.kind)
        if label is None or d.status == DeadlineStatus.CANCELLED and d.kind in live:
            continue
        explained = deadline_derivation(d)
        items.append(DeadlineItem(label(), d.due_date, d.extended, closed_text(d.kind, d.status), d.is_open,
                                  plain_sentence(explained.derivation, restarted=d.restarts > 0)
                                  if explained.consistent else ""))
    items.sort(key=lambda i: (not i.is_open, i.date))
    return items


def period_text(period) -> str:
    from django.utils.translation import ngettext

    from .clocks import Unit

    n = period.amount
    if period.unit == Unit.business_days:
        return ngettext("%(n)d business day", "%(n)d business days", n) % {"n": n}
    if period.unit == Unit.months:
        return ngettext("%(n)d month", "%(n)d months", n) % {"n": n}
    return ngettext("%(n)d day", "%(n)d days", n) % {"n": n}


def answer_times(regime: R.Regime) -> list[dict]:
    """How long the law gives us, in plain words, for the rights page."""
    items = []
    for rule in regime.clocks:
        if rule.name not in (R.RESPOND, R.DETERMINATION, R.EFFECTIVE):
            continue
        applies = None
        if rule.request_types is not None:
            applies = ", ".join(_(t.label) for t in regime.request_types if t.code in rule.request_types)
        args = {"period": period_text(rule.period)}
        if rule.name == R.DETERMINATION:
            text = _("We tell you within %(period)s whether your request is admissible.") % args
        elif rule.name == R.EFFECTIVE:
            text = _("If it is, we carry it out within %(period)s.") % args
        elif rule.starts == R.VERIFIED:
            text = _("We answer within %(period)s of verifying your request.") % args
        else:
            text = _("We answer within %(period)s.") % args
        if rule.extended is not None:
            text += " " + _("If a request is complex we may extend this to %(period)s in total, and we will tell "
                            "you why.") % {"period": period_text(rule.extended)}
        items.append({"applies": applies, "text": text, "source": citation(rule.source)})
    return items
