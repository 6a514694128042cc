"""Pure date arithmetic for legal clocks (shared/spec/regimes.md section 3).

No Django imports: this module is the product's core and is tested exhaustively on its own.
"""
from __future__ import annotations

import calendar as _monthcal
import datetime as dt
from dataclasses import dataclass, field
from enum import Enum
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
from dateutil.relativedelta import relativedelta

CALENDAR_DAYS = "calendar_days"
BUSINESS_DAYS = "business_days"
MONTHS = "months"


class Unit(str, Enum):
    calendar_days = CALENDAR_DAYS
    business_days = BUSINESS_DAYS
    months = MONTHS


@dataclass(frozen=True)
class Period:
    amount: int
    unit: Unit

    def __str__(self) -> str:
        label = {
            Unit.calendar_days: "calendar day",
            Unit.business_days: "business day",
            Unit.months: "month",
        }[self.unit]
        return f"{self.amount} {label}{'' if self.amount == 1 else 's'}"


def days(n: int) -> Period:
    return Period(n, Unit.calendar_days)


def business_days(n: int) -> Period:
    return Period(n, Unit.business_days)


def months(n: int) -> Period:
    return Period(n, Unit.months)


@dataclass(frozen=True)
class HolidayCalendar:
    """A `holidays` calendar: a country and optionally a subdivision (US state, England)."""

    country: str | None
    subdiv: str | None = None

    def is_holiday(self, day: dt.date) -> bool:
        if self.country is None:
            return False
        return day in _holidays_for(self.country, self.subdiv, day.year)

    def is_working_day(self, day: dt.date) -> bool:
        return day.weekday() < 5 and not self.is_holiday(day)

    def holiday_name(self, day: dt.date, language: str | None = None) -> str | None:
        """The holiday's name, in `language` where the calendar has it (else its English name):
        the names are fixed explicitly so that they never depend on the server's locale."""
        if self.country is None or not self.is_holiday(day):
            return None
        return _holiday_names(self.country, self.subdiv, day.year, language).get(day)

    def as_dict(self) -> dict:
        """Which calendar counted, so that a reviewer can challenge it."""
        return {"country": self.country, "subdivision": self.subdiv, "holidays_version": holidays.__version__}


NO_HOLIDAYS = HolidayCalendar(None)


@lru_cache(maxsize=512)
def _holidays_for(country: str, subdiv: str | None, year: int):
    # Default (public) category of the pinned `holidays` release: the spec's reference calendar.
    return holidays.country_holidays(country, subdiv=subdiv, years=year)


@lru_cache(maxsize=512)
def _holiday_names(country: str, subdiv: str | None, year: int, language: str | None):
    base = _holidays_for(country, subdiv, year)
    supported = getattr(base, "supported_languages", ()) or ()
    wanted = [c for c in (language, (language or "").replace("-", "_"), "en_US", "en_GB") if c]
    for code in wanted:
        for lang in supported:
            if lang.lower() == code.lower() or lang.split("_")[0].lower() == code.lower():
                return holidays.country_holidays(country, subdiv=subdiv, years=year, language=lang)
    return base


def add_calendar_days(start: dt.date, n: int) -> dt.date:
    return start + dt.timedelta(days=n)


def add_business_days(start: dt.date, n: int, calendar: HolidayCalendar) -> dt.date:
    # The start day itself is never counted; only Mon-Fri non-holidays count (spec section 3).
    day, counted = start, 0
    while counted < n:
        day += dt.timedelta(days=1)
        if calendar.is_working_day(day):
            counted += 1
    return day


def add_months(start: dt.date, n: int) -> dt.date:
    # Same day-of-month, clamped to the month's last day (31 Jan + 1 month = 28/29 Feb), spec section 3.
    return start + relativedelta(months=n)


def roll_forward(day: dt.date, calendar: HolidayCalendar) -> dt.date:
    # Reg. 1182/71 Art. 3(4) / ICO: a period ending on a Saturday, Sunday or public holiday ends on
    # the next working day. Only applied where the regime says so (ClockRule.roll_forward).
    while not calendar.is_working_day(day):
        day += dt.timedelta(days=1)
    return day


def add_period(start: dt.date, period: Period, calendar: HolidayCalendar) -> dt.date:
    if period.unit == Unit.calendar_days:
        return add_calendar_days(start, period.amount)
    if period.unit == Unit.business_days:
        return add_business_days(start, period.amount, calendar)
    return add_months(start, period.amount)


def due_date(
    start: dt.date,
    period: Period,
    calendar: HolidayCalendar,
    *,
    roll: bool,
    paused_days: int = 0,
) -> dt.date:
    """The clock's last day: the end of the steps that explain it (see due_steps)."""
    pauses = (Pause(None, None, paused_days),) if paused_days else ()
    return steps_end(due_steps(start, period, calendar, roll=roll, pauses=pauses))


def local_date(moment: dt.datetime, tz: str) -> dt.date:
    if moment.tzinfo is None:
        raise ValueError("naive datetime: legal clocks need an aware moment")
    return moment.astimezone(ZoneInfo(tz)).date()


def end_of_day(day: dt.date, tz: str) -> dt.datetime:
    """A clock expires at the end of its due date (23:59:59.999999 local), returned in UTC.

    Computed as one microsecond before the next local midnight, so that a day whose clocks fall
    back at midnight (23:00-23:59 happens twice, e.g. America/Santiago) ends at its *last*
    23:59:59.999999, and a day that springs forward at midnight ends at the transition."""
    zone = ZoneInfo(tz)
    next_midnight = dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
    return next_midnight.astimezone(dt.timezone.utc) - dt.timedelta(microseconds=1)


def working_days_between(start: dt.date, end: dt.date, calendar: HolidayCalendar) -> int:
    """Working days after `start` up to and including `end` (negative if end is earlier)."""
    if end < start:
        return -working_days_between(end, start, calendar)
    count, day = 0, start
    while day < end:
        day += dt.timedelta(days=1)
        if calendar.is_working_day(day):
            count += 1
    return count


# --- derivations: every due date shows its work --------------------------------------------------
#
# A derivation is the ordered list of steps that turns a start event into a due date. The engine
# computes due dates *through* the steps (due_date() below takes the last one), and `replay()`
# recomputes the date from the steps alone, without the holiday calendar, refusing any step that
# is missing, out of order or inconsistent. So what people read always adds up to the date shown.

WEEKEND = "weekend"

# The order in which steps may appear; `replay` refuses any other.
START, RESTART, RULE, EXTENSION = "start", "restart", "rule", "extension"
ADD_DAYS, ADD_MONTHS, CLAMP, COUNT, SKIP = "add_days", "add_months", "clamp", "count", "skip"
PAUSE, ROLL, DUE = "pause", "roll", "due"


@dataclass(frozen=True)
class Step:
    kind: str
    date: dt.date | None = None  # the date the step arrives at (for `skip`: the day skipped)
    reason: str = ""  # `skip`/`roll`: "weekend" or the holiday's name; `restart`/`extension`: why
    details: dict = field(default_factory=dict, hash=False)  # JSON-ready facts (ISO dates, numbers)

    def as_dict(self) -> dict:
        return {"kind": self.kind, "date": self.date.isoformat() if self.date else None,
                "reason": self.reason, **self.details}


@dataclass(frozen=True)
class Pause:
    """Whole calendar days added to a period (UK GDPR Art. 12A(4)); `end` None: still paused."""

    start: dt.date | None
    end: dt.date | None
    days: int
    why: str = ""


@dataclass(frozen=True)
class Derivation:
    clock: str
    due: dt.date
    steps: tuple[Step, ...]
    calendar: dict

    def as_dict(self) -> dict:
        """The serialisable form (what `--json` prints and the API's clock objects carry)."""
        return {"clock": self.clock, "due": self.due.isoformat(), "calendar": dict(self.calendar),
                "steps": [s.as_dict() for s in self.steps]}

    def step(self, kind: str) -> Step | None:
        return next((s for s in self.steps if s.kind == kind), None)

    def of_kind(self, kind: str) -> list[Step]:
        return [s for s in self.steps if s.kind == kind]


class ReplayError(ValueError):
    """The steps do not add up: one is missing, out of order, or says something false."""


def utc_offset(moment: dt.datetime, tz: str) -> str:
    """The zone's offset from UTC at that moment, e.g. "-07:00"."""
    seconds = int(moment.astimezone(ZoneInfo(tz)).utcoffset().total_seconds())
    sign, seconds = ("-" if seconds < 0 else "+"), abs(seconds)
    return f"{sign}{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"


def skip_reason(day: dt.date, calendar: HolidayCalendar) -> str:
    # A holiday is named even when it falls on a weekend: the name is what a reader can check.
    return calendar.holiday_name(day) or WEEKEND


def period_steps(start: dt.date, period: Period, calendar: HolidayCalendar) -> list[Step]:
    """Counting the period from the start date (the start day itself never counts, spec section 3)."""
    n, frm = period.amount, {"n": period.amount, "from": start.isoformat()}
    if period.unit == Unit.calendar_days:
        return [Step(ADD_DAYS, add_calendar_days(start, n), details=frm)]
    if period.unit == Unit.months:
        end = add_months(start, n)
        if end.day == start.day:
            return [Step(ADD_MONTHS, end, details=frm)]
        # The target month is shorter: its last day (31 Jan + 1 month = 28/29 Feb), spec section 3.
        return [Step(ADD_MONTHS, None, details=frm),
                Step(CLAMP, end, details={"day": start.day, "month": f"{end:%Y-%m}"})]
    day, counted, skipped = start, 0, []
    while counted < n:
        day += dt.timedelta(days=1)
        if calendar.is_working_day(day):
            counted += 1
        else:
            skipped.append(Step(SKIP, day, skip_reason(day, calendar), {"weekend": day.weekday() >= 5}))
    return [Step(COUNT, day, details=frm), *skipped]


def roll_steps(day: dt.date, calendar: HolidayCalendar) -> list[Step]:
    # Reg. 1182/71 Art. 3(4) / ICO: a period ending on a Saturday, Sunday or public holiday ends on
    # the next working day; one step per day moved, each with its reason.
    steps = []
    while not calendar.is_working_day(day):
        steps.append(Step(ROLL, day + dt.timedelta(days=1), skip_reason(day, calendar),
                          {"from": day.isoformat(), "weekend": day.weekday() >= 5}))
        day += dt.timedelta(days=1)
    return steps


def due_steps(start: dt.date, period: Period, calendar: HolidayCalendar, *, roll: bool,
              pauses: tuple[Pause, ...] = ()) -> list[Step]:
    """The counting steps from start date to due date: the period, the pauses, the roll forward.
    A pause shifts the period's end by whole calendar days before roll-forward applies, so the
    requester never loses a working day to the pause."""
    steps = period_steps(start, period, calendar)
    end = steps_end(steps)
    for p in pauses:
        end += dt.timedelta(days=p.days)
        steps.append(Step(PAUSE, end, p.why, {"from": p.start.isoformat() if p.start else None,
                                               "to": p.end.isoformat() if p.end else None, "days": p.days}))
    if roll:
        steps += roll_steps(end, calendar)
    return steps


def steps_end(steps: list[Step]) -> dt.date:
    return next(s.date for s in reversed(steps) if s.kind != SKIP and s.date is not None)


def replay(derivation: Derivation | dict) -> dt.date:
    """Recompute the due date from the derivation's steps alone (its serialised form will do).

    No holiday calendar is consulted: a skipped or rolled-over day is taken from its step, so a
    dropped, reordered or altered step gives another date or a ReplayError, never the same date."""
    data = derivation.as_dict() if isinstance(derivation, Derivation) else derivation
    steps = list(data["steps"])
    pos = 0

    def peek() -> str | None:
        return steps[pos]["kind"] if pos < len(steps) else None

    def take(kind: str) -> dict:
        nonlocal pos
        if peek() != kind:
            raise ReplayError(f"expected a '{kind}' step at position {pos + 1}, found {peek() or 'the end'}")
        pos += 1
        return steps[pos - 1]

    def day(value) -> dt.date | None:
        return dt.date.fromisoformat(value) if value else None

    def check(condition: bool, message: str) -> None:
        if not condition:
            raise ReplayError(message)

    def check_moment(step: dict) -> None:
        if step.get("moment"):
            moment = dt.datetime.fromisoformat(step["moment"])
            check(local_date(moment, step["timezone"]) == day(step["date"]),
                  f"{step['moment']} is not {step['date']} in {step['timezone']}")
            check(utc_offset(moment, step["timezone"]) == step["utc_offset"], "wrong UTC offset")

    first = take(START)
    check_moment(first)
    start = day(first["date"])
    while peek() == RESTART:
        restart = take(RESTART)
        check(day(restart["previous_start"]) == start, "a restart must follow the start it replaces")
        check(day(restart["date"]) >= start, "a clock cannot restart before it started")
        check_moment(restart)
        start = day(restart["date"])
    rule = take(RULE)
    amount, unit = rule["amount"], rule["unit"]
    if peek() == EXTENSION:
        extension = take(EXTENSION)
        amount, unit = extension["amount"], extension["unit"]

    if unit == CALENDAR_DAYS:
        step = take(ADD_DAYS)
        check((step["n"], day(step["from"])) == (amount, start), "the count must run from the start date")
        current = start + dt.timedelta(days=amount)
        check(day(step["date"]) == current, f"{start} + {amount} days is {current}, not {step['date']}")
    elif unit == MONTHS:
        step = take(ADD_MONTHS)
        check((step["n"], day(step["from"])) == (amount, start), "the count must run from the start date")
        year, month = divmod(start.month - 1 + amount, 12)
        year, month = start.year + year, month + 1
        last = _monthcal.monthrange(year, month)[1]
        if start.day <= last:
            current = dt.date(year, month, start.day)
            check(day(step["date"]) == current, f"{start} + {amount} months is {current}")
            check(peek() != CLAMP, "no clamp: that month has the day")
        else:
            check(step["date"] is None, f"{year}-{month:02d} has no day {start.day}: a clamp step is needed")
            clamp = take(CLAMP)
            current = dt.date(year, month, last)
            check(day(clamp["date"]) == current, f"the last day of {year}-{month:02d} is {current}")
    elif unit == BUSINESS_DAYS:
        step = take(COUNT)
        check((step["n"], day(step["from"])) == (amount, start), "the count must run from the start date")
        skips = []
        while peek() == SKIP:
            skips.append(take(SKIP))
        current, counted, queue = start, 0, [day(s["date"]) for s in skips]
        reasons = {day(s["date"]): s["reason"] for s in skips}
        while counted < amount:
            current += dt.timedelta(days=1)
            if queue and queue[0] == current:
                queue.pop(0)
                check(reasons[current] != WEEKEND or current.weekday() >= 5, f"{current} is not a weekend day")
                continue
            check(current.weekday() < 5, f"{current} is a weekend day counted as a working day")
            counted += 1
        check(not queue, f"skipped day {queue[0] if queue else ''} is out of order or after the count's end")
        check(day(step["date"]) == current, f"{amount} working days from {start} end on {current}")
    else:
        raise ReplayError(f"unknown unit '{unit}'")

    while peek() == PAUSE:
        pause = take(PAUSE)
        if pause.get("from") and pause.get("to"):
            check((day(pause["to"]) - day(pause["from"])).days == pause["days"], "a pause adds the days it lasted")
        current += dt.timedelta(days=pause["days"])
        check(day(pause["date"]) == current, f"the pause moves the end to {current}")
    rolled = False
    while peek() == ROLL:
        roll = take(ROLL)
        check(rule["roll_forward"], f"the {rule['clock']} clock does not roll forward")
        check(day(roll["from"]) == current, f"a roll forward must start from {current}")
        check(roll["reason"] != WEEKEND or current.weekday() >= 5, f"{current} is not a weekend day")
        current += dt.timedelta(days=1)
        check(day(roll["date"]) == current, "a roll forward moves one day at a time")
        rolled = True
    if rule["roll_forward"] and not rolled:
        check(current.weekday() < 5, f"{current} is a weekend day: a roll-forward step is missing")
    due = take(DUE)
    check(pos == len(steps), f"unexpected '{peek()}' step after the due date")
    check(day(due["date"]) == current, f"the steps end on {current}, not {due['date']}")
    check(day(data["due"]) == current, f"the steps end on {current}, not {data['due']}")
    check(due["expires_at"] == end_of_day(current, due["timezone"]).isoformat(),
          "a clock expires at the end of its due date, local time")
    return current
