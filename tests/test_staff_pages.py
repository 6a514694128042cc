"""The deadline calculator page (same engine and output as `manage.py dsar_deadlines`) and the
CCPA metrics page (11 CCR §7102)."""
import datetime as dt
import io
import json
import re

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse

from requests_app import services

CALC = reverse("staff:calculator")


def command_json(**opts) -> dict:
    out = io.StringIO()
    call_command("dsar_deadlines", json=True, stdout=out, **opts)
    return json.loads(out.getvalue())


def page_dues(html) -> dict[str, str]:
    return dict(re.findall(r'data-clock="([a-z_]+)" data-due="([\d-]+)"', html))


@pytest.mark.parametrize("params, opts", [
    ({"jurisdiction": "US-CA", "request_type": "access", "received": "2026-03-02"},
     {"jurisdiction": "US-CA", "request_type": "access", "received": "2026-03-02"}),
    ({"jurisdiction": "de", "request_type": "access", "received": "2026-01-31"},
     {"jurisdiction": "DE", "request_type": "access", "received": "2026-01-31"}),
    ({"jurisdiction": "MX", "request_type": "access", "received": "2026-09-01", "communicated": "2026-09-10"},
     {"jurisdiction": "MX", "request_type": "access", "received": "2026-09-01", "communicated": "2026-09-10"}),
    ({"jurisdiction": "US-CO", "request_type": "deletion", "received": "2026-03-02", "decision_sent": "2026-04-01",
      "appeal_received": "2026-04-20"},
     {"jurisdiction": "US-CO", "request_type": "deletion", "received": "2026-03-02", "decision_sent": "2026-04-01",
      "appeal_received": "2026-04-20"}),
])
def test_calculator_matches_the_management_command(client, analyst, params, opts):
    client.force_login(analyst)
    response = client.get(CALC, params)
    assert response.status_code == 200
    html = response.content.decode()
    expected = command_json(**opts)["clocks"]
    assert page_dues(html) == {name: c["due"] for name, c in expected.items()}
    for name, c in expected.items():
        if c["extended_due"]:
            assert dt.date.fromisoformat(c["extended_due"]).strftime("%a %Y-%m-%d") in html
    assert "python manage.py dsar_deadlines --jurisdiction" in html


def test_calculator_worked_examples(client, analyst):
    client.force_login(analyst)
    html = client.get(CALC, {"jurisdiction": "DE", "request_type": "access", "received": "2026-01-31"}) \
        .content.decode()
    assert page_dues(html) == {"respond": "2026-03-02"}  # 28 Feb is a Saturday: rolled to Monday
    assert "rolled to a working day" in html
    html = client.get(CALC, {"jurisdiction": "US-CA", "request_type": "opt_out_sale_sharing",
                             "received": "2026-03-02"}).content.decode()
    assert page_dues(html) == {"respond": "2026-03-23"} and "no extension" in html


def test_calculator_reports_bad_input_on_the_field(client, analyst):
    client.force_login(analyst)
    html = client.get(CALC, {"jurisdiction": "XX", "request_type": "access", "received": "2026-03-02"}) \
        .content.decode()
    assert "unknown jurisdiction" in html and "data-due" not in html
    html = client.get(CALC, {"jurisdiction": "US-UT", "request_type": "correction", "received": "2026-03-02"}) \
        .content.decode()
    assert "does not offer request type" in html and "offers: access, portability, deletion, opt_out" in html
    html = client.get(CALC, {"jurisdiction": "DE", "request_type": "access", "received": "31/01/2026"}) \
        .content.decode()
    assert "Enter a valid date." in html
    assert client.get(CALC).status_code == 200  # the empty form


def test_metrics_page(client, auditor, manager):
    received = dt.datetime(2025, 2, 3, 18, 0, tzinfo=dt.timezone.utc)
    with time_machine.travel(received, tick=False):
        case = services.submit_request(jurisdiction="US-CA", request_types=["access"], requester_name="Ana",
                                       requester_email="ana@example.com")[0]
        services.confirm_email(case)
        services.verify_identity(case, manager, method="login")
    with time_machine.travel(received + dt.timedelta(days=12), tick=False):
        services.deny(case, manager, reasons="Could not verify", decision={"basis": "unverifiable"})
    client.force_login(auditor)
    html = client.get(reverse("staff:metrics"), {"year": 2025}).content.decode()
    row = html[html.index('data-type="access"'):]
    row = row[:row.index("</tr>")]
    assert '<td class="num received">1</td>' in row and '<td class="num denied">1</td>' in row
    assert '<td class="num median">12</td>' in row
    assert "11 CCR §7102" in html
    assert client.get(reverse("staff:metrics"), {"year": "abc"}).status_code == 200
