"""Apply a regime's clock rules to dates: the engine behind the calculator and the services.

Pure Python, no Django imports.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from . import regimes as R
from .clocks import (
    ADD_DAYS,
    ADD_MONTHS,
    BUSINESS_DAYS,
    CALENDAR_DAYS,
    CLAMP,
    COUNT,
    DUE,
    EXTENSION,
    MONTHS,
    PAUSE,
    RESTART,
    ROLL,
    RULE,
    SKIP,
    START,
    WEEKEND,
    Derivation,
    Pause,
    Step,
    due_date,
    due_steps,
    end_of_day,
    local_date,
    skip_reason,
    steps_end,
    utc_offset,
)


@dataclass(frozen=True)
class Clock:
    name: str
    rule: R.ClockRule
    start: dt.date
    due: dt.date
    extended_due: dt.date | None  # the latest date an extension can reach; None: no extension
    timezone: str
    derivation: Derivation | None = None
    extended_derivation: Derivation | None = None

    @property
    def due_at(self) -> dt.datetime:
        return end_of_day(self.due, self.timezone)

    def as_json(self) -> dict:
        return {
            "due": self.due.isoformat(),
            "extended_due": self.extended_due.isoformat() if self.extended_due else None,
            "derivation": self.derivation.as_dict() if self.derivation else None,
            "extended_derivation": self.extended_derivation.as_dict() if self.extended_derivation else None,
        }


def compute_due(
    rule: R.ClockRule,
    start: dt.date,
    jurisdiction: R.Jurisdiction,
    *,
    extended: bool = False,
    paused_days: int = 0,
) -> dt.date:
    """The due date of `rule` started on `start`. An extension recomputes from the same start
    with the longer period (spec section 3); a pause shifts the end by whole days (UK Art. 12A)."""
    if extended and rule.extended is None:
        raise R.RegimeError(f"the {rule.name} clock cannot be extended ({rule.source})")
    period = rule.extended if extended else rule.period
    return due_date(start, period, jurisdiction.calendar, roll=rule.roll_forward, paused_days=paused_days)


@dataclass(frozen=True)
class Restart:
    """The clock started again (UK GDPR Art. 12A(3): when the ID or fee asked for arrives)."""

    date: dt.date
    moment: dt.datetime | None = None
    why: str = ""
    stopped_since: dt.date | None = None


@dataclass(frozen=True)
class Extension:
    """Who extended the clock, when and why; `by` None: what an extension would reach."""

    by: str | None = None
    at: dt.datetime | None = None
    reason: str = ""


def _moment_details(moment: dt.datetime | None, day: dt.date, tz: str) -> dict:
    if moment is not None and local_date(moment, tz) != day:
        raise ValueError(f"{moment.isoformat()} is not {day} in {tz}")
    return {"moment": moment.astimezone(dt.timezone.utc).isoformat() if moment else None, "timezone": tz,
            "utc_offset": utc_offset(moment, tz) if moment else None}


def derive(
    rule: R.ClockRule,
    jurisdiction: R.Jurisdiction,
    start: dt.date,
    *,
    moment: dt.datetime | None = None,
    restarts: tuple[Restart, ...] = (),
    extension: Extension | None = None,
    pauses: tuple[Pause, ...] = (),
) -> Derivation:
    """The due date of `rule` with every step that leads to it (see clocks.replay).

    `start` is the local date of the event that started the clock (`moment`, if known); a
    restart replaces it; an extension replaces the period by the longer one from the same start."""
    if extension is not None and rule.extended is None:
        raise R.RegimeError(f"the {rule.name} clock cannot be extended ({rule.source})")
    tz, calendar = jurisdiction.timezone, jurisdiction.calendar
    steps = [Step(START, start, details={"event": rule.starts, **_moment_details(moment, start, tz)})]
    current = start
    for r in restarts:
        steps.append(Step(RESTART, r.date, r.why, {
            "previous_start": current.isoformat(),
            "stopped_since": r.stopped_since.isoformat() if r.stopped_since else None,
            **_moment_details(r.moment, r.date, tz)}))
        current = r.date
    period = rule.period
    steps.append(Step(RULE, details={"clock": rule.name, "source": rule.source, "amount": period.amount,
                                     "unit": period.unit.value, "roll_forward": rule.roll_forward}))
    if extension is not None:
        period = rule.extended
        steps.append(Step(EXTENSION, reason=extension.reason, details={
            "by": extension.by, "at": extension.at.astimezone(dt.timezone.utc).isoformat() if extension.at else None,
            "amount": period.amount, "unit": period.unit.value, "source": rule.source}))
    steps += due_steps(current, period, calendar, roll=rule.roll_forward, pauses=tuple(pauses))
    due = steps_end(steps)
    expires = end_of_day(due, tz)
    # Spec section 3: without roll forward a due date may be a weekend or holiday; say so.
    resting = None if calendar.is_working_day(due) else skip_reason(due, calendar)
    steps.append(Step(DUE, due, details={"timezone": tz, "expires_at": expires.isoformat(),
                                         "utc_offset": utc_offset(expires, tz), "non_working_day": resting}))
    return Derivation(rule.name, due, tuple(steps), calendar.as_dict())


def make_clock(rule: R.ClockRule, start: dt.date, jurisdiction: R.Jurisdiction, paused_days: int = 0,
               *, moment: dt.datetime | None = None) -> Clock:
    pauses = (Pause(None, None, paused_days),) if paused_days else ()
    derivation = derive(rule, jurisdiction, start, moment=moment, pauses=pauses)
    extended = (derive(rule, jurisdiction, start, moment=moment, pauses=pauses, extension=Extension())
                if rule.extended else None)
    return Clock(rule.name, rule, start, derivation.due, extended.due if extended else None, jurisdiction.timezone,
                 derivation, extended)


def parse_local_date(value: str | dt.date | dt.datetime, tz: str) -> dt.date:
    """A date is taken as local to the jurisdiction; a datetime must carry an offset and is
    converted to the jurisdiction's local date."""
    return parse_start(value, tz)[0]


def parse_start(value: str | dt.date | dt.datetime, tz: str) -> tuple[dt.date, dt.datetime | None]:
    """The local date, and the moment where a datetime was given (the derivation shows both)."""
    if isinstance(value, dt.datetime):
        return local_date(value, tz), value
    if isinstance(value, dt.date):
        return value, None
    text = value.strip()
    if not _EXTENDED_DATE.match(text):
        # ISO basic (20260302) and week dates parse in Python 3.11 but are easily misread: refuse them.
        raise ValueError(f"'{value}' is not a valid date (expected YYYY-MM-DD, or YYYY-MM-DDTHH:MM±HH:MM)")
    if len(text) == 10:
        try:
            return dt.date.fromisoformat(text), None
        except ValueError:
            raise ValueError(f"'{value}' is not a valid date (expected YYYY-MM-DD)") from None
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"'{value}' is not a valid date or ISO datetime") from None
    if moment.tzinfo is None:
        raise ValueError(f"'{value}' has no UTC offset: give a date, or a datetime with an offset")
    return local_date(moment, tz), moment


_EXTENDED_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(?:$|[T ])")


def _clock_or_error(rule: R.ClockRule, start: dt.date, jurisdiction: R.Jurisdiction,
                    moment: dt.datetime | None = None) -> Clock:
    try:
        return make_clock(rule, start, jurisdiction, moment=moment)
    except (OverflowError, ValueError):  # date arithmetic past 9999-12-31
        raise ValueError(f"{start.isoformat()} is too late a date: its {rule.name} deadline would fall after "
                         "the last date the calendar holds (9999-12-31)") from None


# Which calculator argument starts which event.
_EVENT_ARGUMENT = {
    R.RECEIVED: "received",
    R.VERIFIED: "received",  # nrs603a: --received is the receipt of the verified request
    R.COMPLETE_REQUEST: "received",  # lfpdppp: --received is the day the complete request arrived
    R.COMMUNICATED: "communicated",
    R.DECISION_SENT: "decision_sent",
    R.APPEAL_RECEIVED: "appeal_received",
}


def calculate(
    jurisdiction_code: str,
    request_type: str,
    received,
    *,
    decision_sent=None,
    appeal_received=None,
    communicated=None,
) -> dict:
    """Every clock that applies to a request, as the `dsar_deadlines` command prints it."""
    jur = R.jurisdiction(jurisdiction_code)
    regime = jur.regime
    regime.request_type(request_type)  # raises UnknownRequestType with the offered list
    given = {
        "received": received,
        "decision_sent": decision_sent,
        "appeal_received": appeal_received,
        "communicated": communicated,
    }
    starts = {k: parse_start(v, jur.timezone) for k, v in given.items() if v is not None}
    clocks: dict[str, Clock] = {}
    for rule in regime.clocks_for(request_type) + regime.appeal_clocks():
        if rule.name not in R.CALCULATOR_CLOCKS:
            continue
        start = starts.get(_EVENT_ARGUMENT[rule.starts])
        if start is not None:
            clocks[rule.name] = _clock_or_error(rule, start[0], jur, moment=start[1])
    return {
        "regime": regime.code,
        "request_type": request_type,
        "jurisdiction": jur.code,
        "timezone": jur.timezone,
        "calendar": jur.calendar.as_dict(),
        "clocks": clocks,
    }


def calculate_json(*args, **kwargs) -> dict:
    result = calculate(*args, **kwargs)
    return {
        "regime": result["regime"],
        "request_type": result["request_type"],
        "jurisdiction": result["jurisdiction"],
        "calendar": result["calendar"],
        "clocks": {name: c.as_json() for name, c in result["clocks"].items()},
    }


# --- the derivation for people (the command's --explain and the staff pages) --------------------

UNIT_WORDS = {"calendar_days": ("calendar day", "calendar days"), "business_days": ("business day", "business days"),
              "months": ("month", "months")}
EVENT_WORDS = {
    R.RECEIVED: "the request was received", R.VERIFIED: "the verified request was received",
    R.COMPLETE_REQUEST: "the complete request was received", R.INFORMATION_REQUESTED: "information was asked for",
    R.COMMUNICATED: "admissibility was communicated", R.DECISION_SENT: "the decision was sent",
    R.APPEAL_RECEIVED: "the appeal was received",
}


def _amount(n: int, unit: str) -> str:
    one, many = UNIT_WORDS.get(unit, (unit, unit))
    return f"{n} {one if n == 1 else many}"


def _d(value: str | None) -> str:
    return f"{dt.date.fromisoformat(value):%a %Y-%m-%d}" if value else "?"


def _moment(step: dict) -> str:
    if not step.get("moment"):
        return f"{_d(step['date'])} (a date local to {step['timezone']})"
    moment = dt.datetime.fromisoformat(step["moment"])
    local = moment.astimezone(ZoneInfo(step["timezone"]))
    return (f"{moment:%Y-%m-%d %H:%M} UTC, which is {local:%H:%M} on {_d(step['date'])} in {step['timezone']} "
            f"(UTC{step['utc_offset']})")


def explain_lines(derivation: Derivation | dict) -> list[tuple[str, list[str]]]:
    """Each step as one English sentence (with any sub-items), in the order they apply."""
    data = derivation.as_dict() if isinstance(derivation, Derivation) else derivation
    lines: list[tuple[str, list[str]]] = []
    skips: list[dict] = []
    for step in data["steps"]:
        kind = step["kind"]
        if kind == SKIP:
            skips.append(step)
            continue
        if skips:
            lines[-1][1].extend(_skip_items(skips))
            skips = []
        if kind == START:
            event = EVENT_WORDS.get(step["event"], step["event"].replace("_", " "))
            lines.append((f"Started when {event}: {_moment(step)}. The start day itself is not counted.", []))
        elif kind == RESTART:
            why = f" ({step['reason']} received)" if step["reason"] else ""
            stopped = f"; stopped since {_d(step['stopped_since'])}" if step.get("stopped_since") else ""
            lines.append((f"Restarted{why}: {_moment(step)}, replacing the start {_d(step['previous_start'])}"
                          f"{stopped}.", []))
        elif kind == RULE:
            roll = ("a due date on a weekend or holiday moves to the next working day" if step["roll_forward"]
                    else "no roll forward")
            lines.append((f"Rule: {_amount(step['amount'], step['unit'])} ({step['source']}); {roll}.", []))
        elif kind == EXTENSION:
            if step.get("by"):
                at = f"{dt.datetime.fromisoformat(step['at']):%Y-%m-%d %H:%M} UTC" if step.get("at") else "?"
                lines.append((f"Extended by {step['by']} on {at} to {_amount(step['amount'], step['unit'])} from the "
                              f"same start: {step['reason'] or 'no reason recorded'} ({step['source']}).", []))
            else:
                lines.append((f"If extended: {_amount(step['amount'], step['unit'])} from the same start "
                              f"({step['source']}).", []))
        elif kind == ADD_DAYS:
            lines.append((f"{_d(step['from'])} + {_amount(step['n'], CALENDAR_DAYS)} = {_d(step['date'])}.", []))
        elif kind == ADD_MONTHS:
            if step["date"]:
                lines.append((f"{_d(step['from'])} + {_amount(step['n'], MONTHS)} = {_d(step['date'])} "
                              "(same day of the month).", []))
            else:
                lines.append((f"{_d(step['from'])} + {_amount(step['n'], MONTHS)}: the same day of the month does "
                              "not exist.", []))
        elif kind == CLAMP:
            lines.append((f"{step['month']} has no day {step['day']}: its last day, {_d(step['date'])}.", []))
        elif kind == COUNT:
            lines.append((f"Counted {_amount(step['n'], BUSINESS_DAYS)} after {_d(step['from'])}, Monday to Friday "
                          f"except public holidays: {_d(step['date'])}.", []))
        elif kind == PAUSE:
            if step.get("to"):
                span = f"paused {_d(step['from'])} to {_d(step['to'])}"
            elif step.get("from"):
                span = f"paused since {_d(step['from'])}, still paused"
            else:
                span = "paused"
            why = f" awaiting {step['reason']}" if step["reason"] else ""
            lines.append((f"Clock {span}{why}: + {_amount(step['days'], CALENDAR_DAYS)} = {_d(step['date'])}.", []))
        elif kind == ROLL:
            lines.append((f"{_d(step['from'])} is {_reason(step)}: rolled forward to {_d(step['date'])}.", []))
        elif kind == DUE:
            expires = dt.datetime.fromisoformat(step["expires_at"])
            lines.append((f"Due {_d(step['date'])}: expires at the end of that day, 23:59:59 in {step['timezone']} "
                          f"(UTC{step['utc_offset']}), stored as {expires:%Y-%m-%d %H:%M:%S} UTC.", []))
            if step.get("non_working_day"):
                lines[-1][1].append(f"{_reason({'reason': step['non_working_day'], 'weekend': False})}: this rule "
                                    "does not move the date (the earlier date is the safe one)")
    calendar = data["calendar"]
    if calendar.get("country"):
        where = calendar["country"] + (f"-{calendar['subdivision']}" if calendar.get("subdivision") else "")
        lines.append((f"Holiday calendar: {where}, from the holidays library, release {calendar['holidays_version']} "
                      "(public holidays).", []))
    else:
        lines.append(("Holiday calendar: none (weekends only).", []))
    return lines


def _reason(step: dict) -> str:
    if step["reason"] == WEEKEND:
        return "a weekend day"
    return f"a public holiday ({step['reason']})" + (", on a weekend" if step.get("weekend") else "")


def _skip_items(skips: list[dict]) -> list[str]:
    weekend = [f"{dt.date.fromisoformat(s['date']):%a %d %b}" for s in skips if s["reason"] == WEEKEND]
    items = [f"not counted: {_d(s['date'])}, {_reason(s)}" for s in skips if s["reason"] != WEEKEND]
    if weekend:
        items.insert(0, f"not counted, weekend: {', '.join(weekend)}")
    return items


def explain_text(derivation: Derivation | dict) -> str:
    out = []
    for number, (line, items) in enumerate(explain_lines(derivation), 1):
        out.append(f"{number}. {line}")
        out.extend(f"     - {item}" for item in items)
    return "\n".join(out)
