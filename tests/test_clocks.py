"""The pure date arithmetic of shared/spec/regimes.md section 3, by example and by property."""
import calendar as cal
import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from requests_app.clocks import (
    NO_HOLIDAYS,
    HolidayCalendar,
    add_business_days,
    add_calendar_days,
    add_months,
    business_days,
    days,
    due_date,
    end_of_day,
    local_date,
    months,
    roll_forward,
    working_days_between,
)

CA = HolidayCalendar("US", "CA")
MX = HolidayCalendar("MX")
ENG = HolidayCalendar("GB", "ENG")
DE = HolidayCalendar("DE")
BR = HolidayCalendar("BR")
CALENDARS = [CA, MX, ENG, DE, BR, HolidayCalendar("US", "CO"), HolidayCalendar("FR"), HolidayCalendar("IE"),
             NO_HOLIDAYS]
ZONES = ["America/Los_Angeles", "America/Denver", "America/New_York", "America/Sao_Paulo", "America/Mexico_City",
         "Europe/London", "Europe/Berlin", "Europe/Dublin", "Atlantic/Reykjavik", "America/Santiago",
         "Australia/Sydney", "Pacific/Auckland", "Asia/Tokyo", "UTC"]

PROPERTY = settings(max_examples=150, deadline=None)
D = dt.date


# --- examples -----------------------------------------------------------------------------------

def test_calendar_days_do_not_count_the_start_day():
    assert add_calendar_days(D(2026, 3, 2), 45) == D(2026, 4, 16)
    assert add_calendar_days(D(2026, 12, 31), 1) == D(2027, 1, 1)


@pytest.mark.parametrize("start,n,expected", [
    (D(2026, 3, 2), 10, D(2026, 3, 16)),  # 11 CCR §7021(a) worked example
    (D(2026, 3, 2), 15, D(2026, 3, 23)),  # the opt-out worked example
    (D(2026, 3, 20), 15, D(2026, 4, 13)),  # skips Cesar Chavez Day (31 March)
    (D(2026, 11, 20), 15, D(2026, 12, 15)),  # skips Thanksgiving and the day after
    (D(2026, 3, 7), 1, D(2026, 3, 9)),  # started on a Saturday: Monday is the first day counted
])
def test_business_days_in_california(start, n, expected):
    assert add_business_days(start, n, CA) == expected


def test_business_days_skip_mexican_holidays():
    assert add_business_days(D(2026, 9, 1), 5, MX) == D(2026, 9, 8)
    assert add_business_days(D(2026, 9, 1), 20, MX) == D(2026, 9, 30)  # 16 September
    assert add_business_days(D(2026, 1, 29), 5, MX) == D(2026, 2, 6)  # Constitution Day, 2 February


def test_observed_new_year_on_the_previous_31_december_counts_as_a_holiday():
    # 1 Jan 2028 is a Saturday: the US observes it on Friday 31 Dec 2027, in the older year.
    assert CA.is_holiday(D(2027, 12, 31))
    assert add_business_days(D(2027, 12, 30), 1, CA) == D(2028, 1, 3)


@pytest.mark.parametrize("start,expected", [
    (D(2026, 1, 31), D(2026, 2, 28)),
    (D(2028, 1, 31), D(2028, 2, 29)),
    (D(2026, 3, 31), D(2026, 4, 30)),
    (D(2026, 12, 31), D(2027, 1, 31)),
    (D(2026, 1, 15), D(2026, 2, 15)),
])
def test_one_month_clamps_to_the_end_of_a_shorter_month(start, expected):
    assert add_months(start, 1) == expected


def test_roll_forward_over_weekend_and_holidays():
    assert roll_forward(D(2026, 2, 28), DE) == D(2026, 3, 2)  # Saturday
    assert roll_forward(D(2026, 12, 25), ENG) == D(2026, 12, 29)  # Christmas, weekend, Boxing Day substitute
    assert roll_forward(D(2026, 12, 25), DE) == D(2026, 12, 28)  # no substitute day in Germany
    assert roll_forward(D(2026, 4, 3), ENG) == D(2026, 4, 7)  # Good Friday … Easter Monday
    assert roll_forward(D(2026, 3, 4), DE) == D(2026, 3, 4)  # a working day stays


def test_due_date_rolls_only_when_asked():
    assert due_date(D(2026, 1, 31), months(1), DE, roll=True) == D(2026, 3, 2)
    assert due_date(D(2026, 1, 31), months(1), DE, roll=False) == D(2026, 2, 28)


def test_a_pause_shifts_the_end_before_roll_forward():
    # UK: 20 Nov + 1 month = 20 Dec; a 5-day pause gives 25 Dec, which rolls to 29 Dec.
    assert due_date(D(2026, 11, 20), months(1), ENG, roll=True) == D(2026, 12, 21)
    assert due_date(D(2026, 11, 20), months(1), ENG, roll=True, paused_days=5) == D(2026, 12, 29)


def test_periods_print_for_people():
    assert str(days(45)) == "45 calendar days"
    assert str(business_days(1)) == "1 business day"
    assert str(months(3)) == "3 months"


@pytest.mark.parametrize("day,tz,utc", [
    (D(2026, 3, 29), "Europe/London", dt.datetime(2026, 3, 29, 22, 59, 59, 999999)),  # BST begins that day
    (D(2026, 10, 25), "Europe/London", dt.datetime(2026, 10, 25, 23, 59, 59, 999999)),  # GMT again
    (D(2026, 3, 8), "America/Los_Angeles", dt.datetime(2026, 3, 9, 6, 59, 59, 999999)),  # PDT begins
    (D(2026, 11, 1), "America/Los_Angeles", dt.datetime(2026, 11, 2, 7, 59, 59, 999999)),  # PST again
    (D(2026, 1, 15), "America/Sao_Paulo", dt.datetime(2026, 1, 16, 2, 59, 59, 999999)),
    # Chile falls back at midnight: 23:00-23:59 happens twice; the day ends after the second time.
    (D(2026, 4, 4), "America/Santiago", dt.datetime(2026, 4, 5, 3, 59, 59, 999999)),
])
def test_end_of_day_is_the_last_local_microsecond_in_utc(day, tz, utc):
    assert end_of_day(day, tz) == utc.replace(tzinfo=dt.timezone.utc)


def test_local_date_needs_an_aware_moment():
    assert local_date(dt.datetime(2026, 3, 3, 5, 30, tzinfo=dt.timezone.utc), "America/Los_Angeles") == D(2026, 3, 2)
    with pytest.raises(ValueError, match="naive"):
        local_date(dt.datetime(2026, 3, 3, 5, 30), "America/Los_Angeles")


def test_working_days_between():
    assert working_days_between(D(2026, 9, 1), D(2026, 9, 8), MX) == 5
    assert working_days_between(D(2026, 9, 8), D(2026, 9, 1), MX) == -5
    assert working_days_between(D(2026, 9, 1), D(2026, 9, 1), MX) == 0


# --- properties -----------------------------------------------------------------------------------

dates = st.dates(min_value=D(2020, 1, 1), max_value=D(2035, 12, 31))
calendars = st.sampled_from(CALENDARS)


@PROPERTY
@given(start=dates, n=st.integers(1, 60), calendar=calendars)
def test_a_business_day_result_is_a_working_day(start, n, calendar):
    assert calendar.is_working_day(add_business_days(start, n, calendar))


@PROPERTY
@given(start=dates, n=st.integers(1, 60), calendar=calendars)
def test_n_business_days_contain_exactly_n_working_days(start, n, calendar):
    end = add_business_days(start, n, calendar)
    assert end > start
    assert working_days_between(start, end, calendar) == n
    # and it is the first such day: one day earlier holds only n - 1
    assert working_days_between(start, end - dt.timedelta(days=1), calendar) == n - 1


@PROPERTY
@given(start=dates, n=st.integers(1, 40), extra=st.integers(0, 80), calendar=calendars,
       unit=st.sampled_from([days, business_days, months]), roll=st.booleans(), paused=st.integers(0, 30))
def test_a_longer_period_is_never_earlier(start, n, extra, calendar, unit, roll, paused):
    """An extension recomputes from the same start with a longer period: never earlier."""
    if unit is months:
        n, extra = n % 6 + 1, extra % 6
    original = due_date(start, unit(n), calendar, roll=roll, paused_days=paused)
    extended = due_date(start, unit(n + extra), calendar, roll=roll, paused_days=paused)
    assert extended >= original


@PROPERTY
@given(day=dates, calendar=calendars)
def test_roll_forward_gives_the_next_working_day(day, calendar):
    rolled = roll_forward(day, calendar)
    assert rolled >= day
    assert calendar.is_working_day(rolled)
    skipped = [day + dt.timedelta(days=i) for i in range((rolled - day).days)]
    assert not any(calendar.is_working_day(d) for d in skipped)


@PROPERTY
@given(day=dates, tz=st.sampled_from(ZONES))
def test_end_of_day_is_2359_local_and_the_next_microsecond_is_the_next_day(day, tz):
    end = end_of_day(day, tz)
    assert end.utcoffset() == dt.timedelta(0)
    local = end.astimezone(ZoneInfo(tz))
    assert local.date() == day
    assert local.time() == dt.time(23, 59, 59, 999999)
    after = (end + dt.timedelta(microseconds=1)).astimezone(ZoneInfo(tz))
    assert after.date() == day + dt.timedelta(days=1)


@pytest.mark.parametrize("year", [2028, 2027])  # a leap year and a common year
@pytest.mark.parametrize("n", [1, 2, 3, 12])
def test_month_arithmetic_for_every_day_of_the_year(year, n):
    day, previous = D(year, 1, 1), None
    while day.year == year:
        result = add_months(day, n)
        month_index = day.month - 1 + n
        target_year, target_month = year + month_index // 12, month_index % 12 + 1
        last = cal.monthrange(target_year, target_month)[1]
        # lands in exactly the n-th month after (never skips one) on the same day or that month's last
        assert (result.year, result.month) == (target_year, target_month)
        assert result.day == min(day.day, last)
        if previous is not None:
            assert result >= previous  # a later start never gives an earlier due date
        previous = result
        day += dt.timedelta(days=1)
