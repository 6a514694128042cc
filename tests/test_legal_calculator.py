"""dsar_deadlines input errors: a date whose clocks would leave the calendar, and an ISO basic
date, are refused with one clear line that names the expected format, never a traceback."""
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse


@pytest.mark.parametrize("jurisdiction, extra", [
    ("DE", []), ("US-CA", []), ("MX", []), ("US-CO", ["--decision-sent", "9999-12-20"]),
])
def test_it_refuses_a_date_whose_deadline_falls_past_the_calendar_cleanly(jurisdiction, extra):
    received = "2026-03-02" if extra else "9999-12-01"
    with pytest.raises(CommandError, match="too late"):
        call_command("dsar_deadlines", "--jurisdiction", jurisdiction, "--type", "access", "--received", received,
                     *extra, stdout=StringIO())


@pytest.mark.parametrize("value", ["20260302", "20260302T100000+0100", "2026-W10-1"])
def test_it_refuses_an_iso_basic_date_naming_the_expected_format(value):
    with pytest.raises(CommandError, match=r"expected YYYY-MM-DD"):
        call_command("dsar_deadlines", "--jurisdiction", "US-CA", "--type", "access", "--received", value,
                     stdout=StringIO())


def test_it_shows_the_staff_calculator_error_instead_of_failing(client, manager):
    client.force_login(manager)
    response = client.get(reverse("staff:calculator"), {"jurisdiction": "US-CA", "request_type": "access",
                                                        "received": "9999-12-01"})
    assert response.status_code == 200 and "too late" in response.content.decode()
