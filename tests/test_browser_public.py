"""End to end in a real browser (Debian's chromium through Playwright, headless): file a request,
follow the confirmation link from the captured e-mail, see the status page. Also the form on a
phone-sized screen. Screenshots go to $DSAR_SCREENSHOT_DIR when set (else the test's tmp dir)."""
import os
import re
import shutil
from pathlib import Path

import pytest
from django.core import mail

from requests_app.models import DataSubjectRequest, State

from .public_helpers import PDF, fresh_cache  # noqa: F401 - fresh_cache is autouse

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("stray_connection_reaper"),
    pytest.mark.skipif(not shutil.which("chromium") and not os.path.exists(CHROMIUM), reason="needs Debian chromium"),
]


@pytest.fixture
def shots(tmp_path) -> Path:
    folder = Path(os.environ.get("DSAR_SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def browser(monkeypatch):
    # Playwright's sync API runs an event loop in this thread; the ORM calls made by the test
    # itself (reading the case back) are plain synchronous code.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()


def test_file_confirm_and_follow_a_request(live_server, settings, browser, shots):
    settings.SITE_URL = live_server.url  # links in e-mails point at the live server
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    page.goto(live_server.url + "/")
    page.screenshot(path=str(shots / "01-start.png"), full_page=True)

    # Keyboard only: the country select, then submit with Enter.
    page.focus("#id_country")
    page.select_option("#id_country", "US")
    page.select_option("#id_us_state", "US-CA")
    page.keyboard.press("Tab")
    page.click("button[type=submit]:has-text('Continue')")
    page.wait_for_url("**/request/rights/")
    assert "California Consumer Privacy Act" in page.content()
    page.screenshot(path=str(shots / "02-rights.png"), full_page=True)
    page.click("a.button:has-text('Continue')")

    # Submitting with nothing chosen shows the focused error summary.
    page.click("button:has-text('Continue')")
    assert page.evaluate("document.activeElement.id") == "error-summary"
    page.screenshot(path=str(shots / "03-requests-error.png"), full_page=True)
    page.check("input[value=access]")
    page.check("input[value=deletion]")
    page.click("button:has-text('Continue')")

    page.wait_for_url("**/request/about-you/")
    assert not page.is_visible("#id_agent_name")  # shown only for someone acting for another
    page.check("input[value=agent]")
    assert page.is_visible("#id_agent_name")
    page.fill("#id_requester_name", "Ana Example")
    page.fill("#id_requester_email", "ana@example.com")
    page.fill("#id_agent_name", "Bea Agent")
    page.fill("#id_agent_email", "bea@agency.example")
    page.set_input_files("#id_authorisation", files=[{"name": "permission.pdf", "mimeType": "application/pdf",
                                                       "buffer": PDF}])
    page.screenshot(path=str(shots / "04-about-you.png"), full_page=True)
    page.click("button:has-text('Continue')")

    page.wait_for_url("**/request/review/")
    assert "permission.pdf" in page.content()
    page.check("#id_declaration")
    page.screenshot(path=str(shots / "05-review.png"), full_page=True)
    page.click("button:has-text('Send my request')")
    page.wait_for_url("**/request/thank-you/")
    assert "check your e-mail" in page.content()
    page.screenshot(path=str(shots / "06-thanks.png"), full_page=True)

    cases = list(DataSubjectRequest.objects.order_by("pk"))
    assert [c.request_type for c in cases] == ["access", "deletion"] and cases[0].filer == "agent"
    confirm = next(m for m in mail.outbox if "/confirm/" in m.body)
    link = re.search(r"http://\S+/confirm/\S+/", confirm.body).group(0)
    page.goto(link)
    assert "Confirm your request" in page.content()  # a GET (e.g. a mail scanner) confirms nothing
    page.click("#confirm-button")
    page.wait_for_load_state()
    assert "your e-mail address is confirmed" in page.content()
    page.screenshot(path=str(shots / "07-confirmed.png"), full_page=True)
    page.click("a.button:has-text('See the status of my request')")
    page.wait_for_url("**/status/**")
    assert cases[0].reference in page.content() and "Verifying identity" in page.content()
    assert "We must answer your request by" in page.content()
    page.screenshot(path=str(shots / "08-status.png"), full_page=True)
    for c in cases:
        c.refresh_from_db()
        assert c.state == State.VERIFYING

    # The status page in Spanish through the language switch.
    page.select_option("#language-switch", "es")
    page.click(".language-switch button")
    page.wait_for_load_state()
    assert "Solicitud " + cases[0].reference in page.content()
    page.screenshot(path=str(shots / "09-status-es.png"), full_page=True)


def test_the_form_on_a_phone(live_server, browser, shots):
    page = browser.new_page(viewport={"width": 375, "height": 740}, device_scale_factor=2, is_mobile=True,
                            has_touch=True, extra_http_headers={"Sec-GPC": "1"})
    page.goto(live_server.url + "/")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, "no horizontal scrolling on a phone"
    assert page.is_visible("button[name=gpc_opt_out]")
    page.screenshot(path=str(shots / "10-phone-start.png"), full_page=True)
    page.select_option("#id_country", "MX")
    page.click("button:has-text('Continue')")
    page.click("a.button:has-text('Continue')")
    page.check("input[value=access]")
    page.click("button:has-text('Continue')")
    page.click("button:has-text('Continue')")  # nothing filled in: errors
    assert page.evaluate("document.activeElement.id") == "error-summary"
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.screenshot(path=str(shots / "11-phone-errors.png"), full_page=True)
