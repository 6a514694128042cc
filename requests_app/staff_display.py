"""What staff read instead of internal codes: clock, event, letter and e-mail names, and the
audit trail as sentences (issue 11: "clock_started … public", "opt out sale sharing").
The staff UI is in English (spec: English prevails)."""
from __future__ import annotations

import datetime as dt

from .models import AppealState, State
from .sweep import CLOCK_LABELS  # the digests' names for the clocks: one vocabulary

LETTER_LABELS = {
    "acknowledgement": "Acknowledgement", "request_information": "Request for information",
    "extension_notice": "Extension notice", "determination": "Determination", "fulfilment": "Response",
    "denial": "Denial", "appeal_decision": "Appeal decision", "not_filed": "Closure (not filed)",
}

EMAIL_LABELS = {
    "confirm_email": "Confirm your e-mail", "acknowledgement": "Acknowledgement", "letter": "Letter",
    "information_requested": "Request for information", "withdrawn": "Withdrawal confirmed",
    "appeal_received": "Appeal received", "status_link": "Status link", "deadline_alert": "Deadline alert",
}

EVENT_LABELS = {
    "submitted": "Request received", "confirm_email": "E-mail address confirmed", "verify": "Identity verified",
    "identity_verified": "Identity verified", "request_information": "Information requested from the requester",
    "receive_reply": "Requester's answer received", "determine_admissible": "Determined admissible",
    "determine_inadmissible": "Determined inadmissible", "fulfil": "Fulfilled", "partially_fulfil": "Partially fulfilled",
    "deny": "Denied", "withdraw": "Withdrawn", "close_not_filed": "Closed as not filed", "assigned": "Assignment changed",
    "note_added": "Note added", "requester_revealed": "Requester details revealed", "attachment_added": "Attachment added",
    "flagged_repeat": "Flagged as a repeat request", "appeal_filed": "Appeal filed", "appeal_decided": "Appeal decided",
    "late_appeal_accepted": "Late appeal accepted", "appeal_window_closed": "Appeal window closed",
    "clock_started": "Clock started", "clock_closed": "Clock closed", "clock_paused": "Clock paused",
    "clock_resumed": "Clock resumed", "clock_restarted": "Clock restarted", "deadline_extended": "Deadline extended",
    "letter_issued": "Letter issued", "escalated": "Escalated by the deadline sweep",
}

DECISION_LABELS = {
    "actions": "What we did", "categories": "Categories of personal information", "sources": "Categories of sources",
    "purposes": "Purposes", "recipients": "Categories of recipients", "retention": "Retention",
    "retained": "Data we keep", "basis": "Ground", "legal_basis": "Legal basis", "data": "Data returned",
}

STATUS_WORDS = {"met": "met", "lapsed": "lapsed", "cancelled": "no longer applies", "open": "running"}


def humanise(code: str) -> str:
    return code.replace("_", " ").capitalize() if code else ""


def clock_label(kind: str) -> str:
    return CLOCK_LABELS.get(kind, humanise(kind))


def letter_label(kind: str) -> str:
    return LETTER_LABELS.get(kind, humanise(kind))


def email_label(kind: str) -> str:
    return EMAIL_LABELS.get(kind, humanise(kind))


def state_label(value: str) -> str:
    for choices in (State, AppealState):
        try:
            return str(choices(value).label)
        except ValueError:
            continue
    return humanise(value)


def _date(value) -> str:
    try:
        return dt.date.fromisoformat(str(value)).strftime("%a %d %b %Y")
    except ValueError:
        return str(value)


def event_sentence(event) -> str:
    """One line of the audit trail: what happened, to which clock, with its dates."""
    data = event.data or {}
    text = EVENT_LABELS.get(event.kind, humanise(event.kind))
    clock = data.get("clock")
    if clock:
        text += f": {clock_label(clock)}"
    if event.kind == "clock_started" and data.get("due"):
        text += f", due {_date(data['due'])}"
    elif event.kind == "clock_closed" and data.get("status"):
        text += f", {STATUS_WORDS.get(data['status'], data['status'])}" + (" (late)" if data.get("late") else "")
    elif data.get("to"):
        text += f", now due {_date(data['to'])}"
    elif data.get("due") and event.kind != "clock_started":
        text += f", due {_date(data['due'])}"
    if data.get("kind") and event.kind == "letter_issued":
        text += f": {letter_label(data['kind'])}"
    if event.from_state or event.to_state:
        text += f" ({state_label(event.from_state) or '—'} → {state_label(event.to_state)})"
    return text + "."


def decision_items(decision: dict, regime_code: str) -> list[dict]:
    """The decision, field by field: lists as lists, returned data as a table (category, field, value)."""
    from .refusals import ground

    items = []
    for key, value in (decision or {}).items():
        label = DECISION_LABELS.get(key, humanise(key))
        if key == "data" and isinstance(value, dict):
            items.append({"label": label, "table": list(data_rows(value))})
        elif key == "basis":
            g = ground(regime_code, value)
            items.append({"label": label, "text": g.label if g else humanise(value)})
        elif isinstance(value, list):
            items.append({"label": label, "text": "; ".join(map(str, value))})
        else:
            items.append({"label": label, "text": str(value)})
    return items


def data_rows(data: dict):
    for category, fields in data.items():
        if isinstance(fields, dict):
            for field, value in fields.items():
                yield category, field, value
        elif isinstance(fields, list):
            for i, value in enumerate(fields, 1):
                if isinstance(value, dict):
                    yield category, str(i), ", ".join(f"{k}: {v}" for k, v in value.items())
                else:
                    yield category, str(i), value
        else:
            yield category, "", fields
