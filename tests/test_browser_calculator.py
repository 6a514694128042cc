"""The calculator in a real browser (issue 11, issue 17): choosing a jurisdiction narrows the
request types at once (progressive enhancement), and each clock opens its derivation."""
import pytest

from tests.fixtures import make_user
from tests.test_browser_staff import browser_page, shots  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("stray_connection_reaper")]


def test_it_narrows_request_types_to_the_chosen_jurisdiction_and_opens_the_derivation(
        live_server, browser_page, shots):  # noqa: F811
    make_user("andy", "analyst", password="s3cret-pass-word")
    page = browser_page
    page.goto(f"{live_server.url}/staff/deadlines/")
    page.fill("#id_username", "andy")
    page.fill("#id_password", "s3cret-pass-word")
    page.click(".login-card button[type=submit]")
    page.wait_for_url("**/staff/deadlines/**")
    assert page.locator("button[name=choose]").is_hidden()  # the no-JavaScript button steps aside
    page.select_option("#id_jurisdiction", "US-UT")
    values = page.eval_on_selector_all("#id_request_type option", "els => els.map(e => e.value)")
    assert values == ["", "access", "portability", "deletion", "opt_out"]
    page.select_option("#id_jurisdiction", "US-CA")
    page.select_option("#id_request_type", "opt_out_sale_sharing")
    page.fill("#id_received", "2026-03-20")
    page.click("form[data-calculator] button[type=submit]:not([name])")
    page.wait_for_selector("[data-derivation=respond]")
    derivation = page.locator("[data-derivation=respond] details.derivation")
    assert not page.get_by_text("Cesar Chavez Day").first.is_visible()
    derivation.locator("summary").click()
    assert page.get_by_text("not counted: Tue 2026-03-31, a public holiday (Cesar Chavez Day)").is_visible()
    page.screenshot(path=str(shots / "calculator-derivation.png"), full_page=True)
