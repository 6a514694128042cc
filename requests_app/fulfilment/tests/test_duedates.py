"""The internal due date: a share of the time left, never later than the legal date minus a margin."""
import datetime as dt

import pytest

from requests_app.fulfilment.duedates import internal_due

UTC = dt.timezone.utc
NOW = dt.datetime(2026, 3, 2, 12, tzinfo=UTC)
DAY = dt.timedelta(days=1)


def test_it_takes_the_share_of_the_time_left():
    assert internal_due(NOW, NOW + 40 * DAY, 0.5, 3 * DAY) == NOW + 20 * DAY


def test_it_never_passes_the_legal_date_minus_the_margin():
    assert internal_due(NOW, NOW + 10 * DAY, 0.9, 3 * DAY) == NOW + 7 * DAY


def test_it_is_due_at_once_when_the_margin_no_longer_fits():
    assert internal_due(NOW, NOW + 2 * DAY, 0.5, 3 * DAY) == NOW


def test_it_stays_at_the_legal_date_when_the_clock_ran_out():
    assert internal_due(NOW, NOW - DAY, 0.5, 3 * DAY) == NOW - DAY


@pytest.mark.parametrize("share", [0, -0.1, 1.5])
def test_it_refuses_a_share_outside_zero_to_one(share):
    with pytest.raises(ValueError):
        internal_due(NOW, NOW + DAY, share, DAY)
