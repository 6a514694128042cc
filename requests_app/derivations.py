"""The derivation of each stored clock (issue 17), rebuilt from its Deadline row and the audit
trail, for the case page, the requester's status page and the API.

The Deadline row keeps the dates; the Events keep what moved them (started, paused, resumed,
restarted, extended, with who and when). Rebuilding the steps from both with the pure engine
(deadlines.derive) gives the same date as the row, or says plainly that it does not (a holiday
calendar that changed since, or a row edited by hand): a derivation never silently disagrees with
the date shown.

For the REST API: `deadline_derivation(deadline).as_dict()` is the serialisable form of one clock's
derivation (clocks.replay() recomputes its date from it).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import formats
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _

from . import regimes as R
from .clocks import WEEKEND, Derivation, HolidayCalendar, Pause, local_date
from .deadlines import Extension, Restart, derive, explain_lines

CLOCK_EVENTS = ("clock_started", "clock_closed", "clock_paused", "clock_resumed", "clock_restarted",
                "deadline_extended")


@dataclass(frozen=True)
class Explained:
    derivation: Derivation | None
    consistent: bool  # the steps add up to the date stored on the row

    def as_dict(self) -> dict | None:
        return self.derivation.as_dict() if self.derivation else None

    @property
    def lines(self) -> list[tuple[str, list[str]]]:
        return explain_lines(self.derivation) if self.derivation else []

    @property
    def calendar(self) -> dict:
        return self.derivation.calendar if self.derivation else {}


def events_by_deadline(deadlines, events) -> dict[int, list]:
    """Each row's clock events. A `clock_started` event belongs to the next row of its kind (rows
    and events are both written in order by start_clock); the events after it, to that row."""
    rows: dict[tuple, list] = {}
    for d in sorted(deadlines, key=lambda d: d.pk):
        rows.setdefault((d.kind, d.appeal_id), []).append(d)
    started: dict[tuple, int] = {}
    found: dict[int, list] = {d.pk: [] for d in deadlines}
    for e in events:
        clock = (e.data or {}).get("clock")
        if e.kind not in CLOCK_EVENTS or not clock:
            continue
        key = (clock, e.appeal_id)
        if e.kind == "clock_started":
            started[key] = started.get(key, 0) + 1
        index = started.get(key, 0) - 1
        if 0 <= index < len(rows.get(key, ())):
            found[rows[key][index].pk].append(e)
    return found


def _rule(deadline) -> R.ClockRule | None:
    case = deadline.case
    if deadline.kind == R.CONFIRM_EMAIL:
        from .services import _confirm_rule  # the internal timer's rule is a setting, built there

        return _confirm_rule()
    return case.regime_info.any_clock(deadline.kind, case.request_type)


def _on_day(candidates, day: dt.date, tz: str) -> dt.datetime | None:
    """The first known moment that falls on the start day (a date typed in later has none)."""
    for moment in candidates:
        if moment is not None and local_date(moment, tz) == day:
            return moment
    return None


def _start_candidates(deadline, rule: R.ClockRule, started_event) -> list:
    case = deadline.case
    by_event = {
        R.RECEIVED: case.received_at, R.COMPLETE_REQUEST: case.received_at, R.VERIFIED: case.verified_at,
        R.INFORMATION_REQUESTED: case.information_requested_at, R.DECISION_SENT: case.decision_sent_at,
        # only an appeal already loaded: a page must not pay one query per clock
        R.APPEAL_RECEIVED: deadline.appeal.received_at if deadline.appeal_id and type(deadline).appeal.is_cached(
            deadline) else None,
    }
    return [by_event.get(rule.starts), started_event.created_at if started_event else None]


def _history(deadline, events, tz: str):
    """Restarts, pauses and extension from the row's audit events (UK GDPR Art. 12A)."""
    restarts, pauses, extension = [], [], None
    started = next((e for e in events if e.kind == "clock_started"), None)
    stopped, why, counted = None, "", 0
    for e in events:
        data = e.data or {}
        if e.kind == "clock_paused":
            stopped, why = dt.date.fromisoformat(data["since"]), data.get("why", "")
        elif e.kind == "clock_resumed" and stopped is not None:
            days = data.get("paused_days", 0) - counted
            counted = data.get("paused_days", 0)
            pauses.append(Pause(stopped, stopped + dt.timedelta(days=days), days, why))
            stopped = None
        elif e.kind == "clock_restarted":
            new = dt.date.fromisoformat(data["start"])
            arrived = dt.datetime.fromisoformat(data["received_at"]) if data.get("received_at") else None
            restarts.append(Restart(new, _on_day([arrived, e.created_at], new, tz), why, stopped))
            pauses, stopped, counted = [], None, 0  # the month starts again (Art. 12A(3))
        elif e.kind == "deadline_extended":
            extension = Extension(e.actor_label, e.created_at, e.reason)
    return started, restarts, pauses, extension


def deadline_derivation(deadline, events=None) -> Explained:
    """The derivation of one Deadline row. `events`: its clock events (see events_by_deadline);
    None rebuilds it from the row alone (pauses as one total, no names of who extended)."""
    rule = _rule(deadline)
    if rule is None:
        return Explained(None, False)
    jur = deadline.case.jurisdiction_info
    tz = jur.timezone
    if events is not None:
        started, restarts, pauses, extension = _history(deadline, events, tz)
        if deadline.paused_since is not None:
            pauses.append(Pause(deadline.paused_since, None, 0, deadline.case.awaiting))
        first = dt.date.fromisoformat(started.data["start"]) if started and started.data.get("start") \
            else deadline.start_date
        if deadline.extended and extension is None:
            extension = Extension(None, deadline.extended_at, deadline.extension_reason)
        explained = _derive(deadline, rule, jur, first, _on_day(_start_candidates(deadline, rule, started), first, tz),
                            restarts, pauses, extension)
        if explained.consistent:
            return explained
    return _from_row(deadline, rule, jur)


def _from_row(deadline, rule, jur) -> Explained:
    pauses = [Pause(None, None, deadline.paused_days)] if deadline.paused_days else []
    if deadline.paused_since is not None:
        pauses.append(Pause(deadline.paused_since, None, 0, deadline.case.awaiting))
    extension = Extension(None, deadline.extended_at, deadline.extension_reason) if deadline.extended else None
    moment = _on_day(_start_candidates(deadline, rule, None), deadline.start_date, jur.timezone)
    return _derive(deadline, rule, jur, deadline.start_date, moment, [], pauses, extension)


def _derive(deadline, rule, jur, start, moment, restarts, pauses, extension) -> Explained:
    try:
        derivation = derive(rule, jur, start, moment=moment, restarts=tuple(restarts), pauses=tuple(pauses),
                            extension=extension if rule.extended else None)
    except (ValueError, R.RegimeError):
        return Explained(None, False)
    return Explained(derivation, derivation.due == deadline.due_date)


def case_derivations(case, deadlines, events) -> dict[int, Explained]:
    """Every clock of a case, from rows and events already loaded (one more query: its appeals)."""
    found = events_by_deadline(deadlines, events)
    appeals = {a.pk: a for a in case.appeals.all()} if any(d.appeal_id for d in deadlines) else {}
    for d in deadlines:
        d.case = case
        if d.appeal_id in appeals:
            d.appeal = appeals[d.appeal_id]
    return {d.pk: deadline_derivation(d, found[d.pk]) for d in deadlines}


def calendar_label(calendar: dict) -> str:
    if not calendar or not calendar.get("country"):
        return "none (weekends only)"
    where = calendar["country"] + (f"-{calendar['subdivision']}" if calendar.get("subdivision") else "")
    return f"{where}, holidays {calendar['holidays_version']}"


# --- one plain line for the requester, in their language -------------------------------------------

def _day(value: dt.date, year: int) -> str:
    return formats.date_format(value, "MONTH_DAY_FORMAT" if value.year == year else "DATE_FORMAT")


def _period(amount: int, unit: str) -> str:
    if unit == "business_days":
        return ngettext("%(n)d working day", "%(n)d working days", amount) % {"n": amount}
    if unit == "months":
        return ngettext("%(n)d month", "%(n)d months", amount) % {"n": amount}
    return ngettext("%(n)d day", "%(n)d days", amount) % {"n": amount}


def _and(items: list[str]) -> str:
    if len(items) < 2:
        return "".join(items)
    return _("%(list)s and %(last)s") % {"list": ", ".join(items[:-1]), "last": items[-1]}


def _holiday(derivation: Derivation, day: dt.date, reason: str) -> str:
    """The holiday's name in the requester's language where the calendar has it."""
    cal = derivation.calendar
    if cal.get("country"):
        name = HolidayCalendar(cal["country"], cal.get("subdivision")).holiday_name(day, get_language())
        if name:
            return name
    return reason


def plain_sentence(derivation: Derivation | None, *, restarted: bool = False) -> str:
    """E.g. "15 working days from March 2, not counting weekends and March 31 (Cesar Chavez Day)."
    Translated in the active language; every fact comes from the derivation's steps (`restarted`:
    the row says the clock restarted, where the derivation was rebuilt from the row alone)."""
    if derivation is None:
        return ""
    year = derivation.due.year
    rule = derivation.step("rule")
    extension = derivation.step("extension")
    amount, unit = (extension or rule).details["amount"], (extension or rule).details["unit"]
    restarts = derivation.of_kind("restart")
    start = restarts[-1].date if restarts else derivation.steps[0].date
    args = {"period": _period(amount, unit), "start": _day(start, year)}
    if restarts or restarted:
        text = _("%(period)s from %(start)s, when we received what we had asked you for") % args
    else:
        text = _("%(period)s from %(start)s") % args
    if extension is not None:
        text += _(", as extended")
    if unit == "business_days":
        holidays = [f"{_day(s.date, year)} ({_holiday(derivation, s.date, s.reason)})"
                    for s in derivation.of_kind("skip") if s.reason != WEEKEND]
        if holidays:
            text += _(", not counting weekends and %(holidays)s") % {"holidays": _and(holidays)}
        else:
            text += _(", not counting weekends")
    clamp = derivation.step("clamp")
    if clamp is not None:
        text += _(", ending on the last day of the shorter month, %(date)s") % {"date": _day(clamp.date, year)}
    paused = sum(s.details["days"] for s in derivation.of_kind("pause"))
    if paused:
        text += ngettext(", plus %(n)d day while we waited for your answer",
                         ", plus %(n)d days while we waited for your answer", paused) % {"n": paused}
    if any(s.details.get("to") is None and s.details.get("from") for s in derivation.of_kind("pause")):
        text += _(", stopped while we wait for your answer")
    rolls = derivation.of_kind("roll")
    if rolls:
        first = rolls[0]
        frm = dt.date.fromisoformat(first.details["from"])
        reason = (_("a weekend day") if first.reason == WEEKEND else _holiday(derivation, frm, first.reason))
        text += _(", moved to the next working day, %(date)s, because %(day)s is %(reason)s") % {
            "date": _day(derivation.due, year), "day": _day(frm, year), "reason": reason}
    return text + "."
