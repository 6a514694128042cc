"""Pure date arithmetic for legal clocks (shared/spec/regimes.md section 3).

No Django imports: this module is the product's core and is tested exhaustively on its own.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
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

    def holiday_name(self, day: dt.date) -> str | None:
        if self.country is None:
            return None
        return _holidays_for(self.country, self.subdiv, day.year).get(day)


NO_HOLIDAYS = HolidayCalendar(None)


@lru_cache(maxsize=512)
def _holidays_for(country: str, subdiv: str | None, year: int):
    # Default (public) category of the pinned `holidays` release: the spec's reference calendar.
    return holidays.country_holidays(country, subdiv=subdiv, years=year)


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
    """The clock's last day. A pause shifts the period's end by whole calendar days before
    roll-forward applies, so the requester never loses a working day to the pause."""
    end = add_period(start, period, calendar) + dt.timedelta(days=paused_days)
    return roll_forward(end, calendar) if roll else end


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
