"""The metrics page opens on the current year, lists every year, and exports CSV (issue 11)."""
import csv
import datetime as dt
import io
import re

import time_machine
from django.urls import reverse

from requests_app import services

UTC = dt.timezone.utc


def years_offered(html) -> list[int]:
    select = re.search(r'<select name="year".*?</select>', html, re.S).group(0)
    return [int(y) for y in re.findall(r'<option value="(\d{4})"', select)]


def test_it_opens_on_this_year_and_keeps_every_year(client, auditor, manager):
    with time_machine.travel(dt.datetime(2024, 5, 2, 18, tzinfo=UTC), tick=False):
        services.submit_request(jurisdiction="US-CA", request_types=["access"], requester_name="Ana",
                                requester_email="ana@example.com")
    with time_machine.travel(dt.datetime(2026, 11, 30, 12, tzinfo=UTC), tick=False):
        services.submit_request(jurisdiction="US-CA", request_types=["deletion"], requester_name="Bea",
                                requester_email="bea@example.com")
        client.force_login(auditor)
        html = client.get(reverse("staff:metrics")).content.decode()
        assert "CCPA request metrics 2026" in html
        assert years_offered(html) == [2026, 2025, 2024]
        assert years_offered(client.get(reverse("staff:metrics"), {"year": 2024}).content.decode()) == [2026, 2025, 2024]
        row = html[html.index('data-type="deletion"'):]
        assert '<td class="num received">1</td>' in row[:row.index("</tr>")]


def test_it_exports_the_years_figures_as_csv(client, auditor):
    with time_machine.travel(dt.datetime(2026, 3, 2, 18, tzinfo=UTC), tick=False):
        services.submit_request(jurisdiction="US-CA", request_types=["access"], requester_name="Ana",
                                requester_email="ana@example.com")
        client.force_login(auditor)
        response = client.get(reverse("staff:metrics"), {"year": 2026, "format": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="ccpa-metrics-2026.csv"' in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    access = next(r for r in rows if r["received"] == "1")
    assert access["year"] == "2026" and access["denied"] == "0" and "request type" in access
