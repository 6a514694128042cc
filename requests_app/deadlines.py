"""Apply a regime's clock rules to dates: the engine behind the calculator and the services.

Pure Python, no Django imports.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from . import regimes as R
from .clocks import due_date, end_of_day, local_date


@dataclass(frozen=True)
class Clock:
    name: str
    rule: R.ClockRule
    start: dt.date
    due: dt.date
    extended_due: dt.date | None  # the latest date an extension can reach; None: no extension
    timezone: str

    @property
    def due_at(self) -> dt.datetime:
        return end_of_day(self.due, self.timezone)

    def as_json(self) -> dict:
        return {
            "due": self.due.isoformat(),
            "extended_due": self.extended_due.isoformat() if self.extended_due else None,
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


def make_clock(rule: R.ClockRule, start: dt.date, jurisdiction: R.Jurisdiction, paused_days: int = 0) -> Clock:
    due = compute_due(rule, start, jurisdiction, paused_days=paused_days)
    ext = (
        compute_due(rule, start, jurisdiction, extended=True, paused_days=paused_days)
        if rule.extended
        else None
    )
    return Clock(rule.name, rule, start, due, ext, jurisdiction.timezone)


def parse_local_date(value: str | dt.date | dt.datetime, tz: str) -> dt.date:
    """A date is taken as local to the jurisdiction; a datetime must carry an offset and is
    converted to the jurisdiction's local date."""
    if isinstance(value, dt.datetime):
        return local_date(value, tz)
    if isinstance(value, dt.date):
        return value
    text = value.strip()
    if not _EXTENDED_DATE.match(text):
        # ISO basic (20260302) and week dates parse in Python 3.11 but are easily misread: refuse them.
        raise ValueError(f"'{value}' is not a valid date (expected YYYY-MM-DD, or YYYY-MM-DDTHH:MM±HH:MM)")
    if len(text) == 10:
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            raise ValueError(f"'{value}' is not a valid date (expected YYYY-MM-DD)") from None
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"'{value}' is not a valid date or ISO datetime") from None
    if moment.tzinfo is None:
        raise ValueError(f"'{value}' has no UTC offset: give a date, or a datetime with an offset")
    return local_date(moment, tz)


_EXTENDED_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(?:$|[T ])")


def _clock_or_error(rule: R.ClockRule, start: dt.date, jurisdiction: R.Jurisdiction) -> Clock:
    try:
        return make_clock(rule, start, jurisdiction)
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
    starts = {k: parse_local_date(v, jur.timezone) for k, v in given.items() if v is not None}
    clocks: dict[str, Clock] = {}
    for rule in regime.clocks_for(request_type) + regime.appeal_clocks():
        if rule.name not in R.CALCULATOR_CLOCKS:
            continue
        start = starts.get(_EVENT_ARGUMENT[rule.starts])
        if start is not None:
            clocks[rule.name] = _clock_or_error(rule, start, jur)
    return {
        "regime": regime.code,
        "request_type": request_type,
        "jurisdiction": jur.code,
        "timezone": jur.timezone,
        "clocks": clocks,
    }


def calculate_json(*args, **kwargs) -> dict:
    result = calculate(*args, **kwargs)
    return {
        "regime": result["regime"],
        "request_type": result["request_type"],
        "jurisdiction": result["jurisdiction"],
        "clocks": {name: c.as_json() for name, c in result["clocks"].items()},
    }
