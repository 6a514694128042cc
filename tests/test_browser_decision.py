"""A manager's decision, in a real browser: open a Colorado case, preview the denial letter, issue
it, then find the closed case through search and the archive; the metrics page fits 1440 pixels.
The requester's status page then shows the reasons (issue 11's walks)."""
import re

import pytest

from requests_app import services
from requests_app.models import DataSubjectRequest, Letter
from requests_app.tokens import STATUS, make_token
from tests.fixtures import make_user
from tests.test_browser_staff import browser_page, shots  # noqa: F401 - the browser and screenshot fixtures

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("stray_connection_reaper")]

REASONS = "We must keep your order records while the order is open."


def test_manager_previews_issues_and_finds_the_closed_case(live_server, browser_page, shots, settings):
    settings.SITE_URL = live_server.url
    make_user("mia", "manager", password="s3cret-pass-word")
    case = services.submit_request(jurisdiction="US-CO", request_types=["deletion"], requester_name="Ana Example",
                                   requester_email="ana@example.com")[0]
    case = services.confirm_email(case)
    page = browser_page

    page.goto(f"{live_server.url}/staff/cases/{case.pk}/")
    page.fill("#id_username", "mia")
    page.fill("#id_password", "s3cret-pass-word")
    page.click(".login-card button[type=submit]")
    page.wait_for_url(f"**/staff/cases/{case.pk}/")
    if page.locator("#act-verify").count():
        page.click("#act-verify summary")
        page.fill("#id_verify_method", "Signed in to the account")
        page.click("#act-verify button[type=submit]")
        page.wait_for_selector(".messages li")
    page.click("#act-deny summary")
    page.fill("#id_deny_reasons", REASONS)
    page.select_option("#id_deny_basis", "exempt")
    page.click("#act-deny button[name=preview]")
    page.wait_for_selector("iframe.letter-preview")
    letter = page.frame_locator("iframe.letter-preview")
    assert REASONS in letter.locator("body").inner_text()
    assert "C.R.S. 6-1-1304" in letter.locator("body").inner_text()
    page.screenshot(path=str(shots / "20-preview.png"), full_page=True)
    assert not Letter.objects.filter(case=case, kind="denial").exists()  # nothing issued by a preview

    page.click("#letter-preview button:has-text('Issue this letter')")
    page.wait_for_selector(".messages li")
    assert "Request denied" in page.inner_text(".messages")
    assert DataSubjectRequest.objects.get(pk=case.pk).state == "denied"

    page.goto(f"{live_server.url}/staff/")
    page.fill("#id_q", case.reference)
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**/staff/?*q=*")
    assert case.reference in page.inner_text("table.queue")
    page.click("nav.staff-nav a:has-text('Archive')")
    page.wait_for_url("**/staff/?show=closed")
    assert case.reference in page.inner_text("table.queue") and "Archive of closed cases" in page.inner_text("h1")

    page.goto(f"{live_server.url}/staff/metrics/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 1440, "the metrics page fits the screen"
    page.screenshot(path=str(shots / "21-metrics.png"), full_page=True)

    page.goto(f"{live_server.url}/status/{make_token(case, STATUS)}/")
    assert REASONS in page.inner_text("main")
    assert re.search(r"appeal until", page.inner_text("main"))
    page.screenshot(path=str(shots / "22-status.png"), full_page=True)
