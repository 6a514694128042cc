"""End to end in a real browser: a vendor uploads an export through its link, the analyst previews
the package, issues the decision, and the requester downloads the ZIP after a one-time code; the
ZIP's manifest hashes match its files and the stored package's SHA-256."""
import hashlib
import io
import json
import re
import zipfile
from pathlib import Path

import pytest

from requests_app import services
from requests_app.fulfilment import services as fs
from requests_app.fulfilment.exports import Export
from requests_app.fulfilment.models import AccessPackage, DataSystem, Task
from requests_app.models import DataSubjectRequest, Event, Notification
from requests_app.tokens import STATUS, make_token
from tests.fixtures import make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("stray_connection_reaper")]

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture
def browser(monkeypatch):
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed")
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # the test's ORM calls beside Playwright's loop
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def check_manifest(content: bytes) -> dict:
    zf = zipfile.ZipFile(io.BytesIO(content))
    manifest = json.loads(zf.read("manifest.json"))
    assert {f["path"] for f in manifest["files"]} | {"manifest.json"} == set(zf.namelist())
    for f in manifest["files"]:
        assert hashlib.sha256(zf.read(f["path"])).hexdigest() == f["sha256"], f["path"]
    return manifest


def test_vendor_upload_preview_decision_and_requester_download(live_server, browser, tmp_path):
    import os

    shots = Path(os.environ.get("DSAR_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    analyst = make_user("andy", "analyst", password="s3cret-pass-word")
    manager = make_user("mia", "manager")
    owner = make_user("olga", "analyst")
    DataSystem.objects.create(name="Accounts", owner=owner, categories=["identifiers"], request_kinds=["access"],
                              sources="You, when you register", purposes="Your account",
                              recipients="Our hosting provider")
    DataSystem.objects.create(name="Courier", kind="processor", vendor_name="FastShip Ltd",
                              vendor_email="dpo@fastship.example", work_mode="vendor", categories=["geolocation"],
                              request_kinds=["access"], sources="Delivery tracking", purposes="Delivery",
                              recipients="Logistics partners")
    case = services.submit_request(jurisdiction="US-CA", request_types=["access"], requester_name="Ana Example",
                                   requester_email="ana@example.com")[0]
    services.confirm_email(case)
    services.verify_identity(DataSubjectRequest.objects.get(pk=case.pk), manager, method="account log-in")
    services.assign(DataSubjectRequest.objects.get(pk=case.pk), manager, analyst)
    assert Task.objects.filter(case=case).count() == 2
    fs.answer_task(Task.objects.get(case=case, system__name="Accounts"), fs.Answer(
        "done", export=Export("accounts.json", "json", json.dumps({"email": "ana@example.com"}).encode())),
        user=owner)

    # 1. The vendor answers through the link in its e-mail, without an account.
    mail = Notification.objects.get(kind="fulfilment_vendor_request")
    vendor_path = re.search(r"http://testserver(/fulfilment/vendor/\S+/)", mail.body_text).group(1)
    export = tmp_path / "shipments.csv"
    export.write_text("shipment,city\r\nS-1,Sacramento\r\n")
    vendor = browser.new_page()
    vendor.set_default_timeout(15_000)
    vendor.goto(live_server.url + vendor_path)
    vendor.check("input[name=outcome][value=done]")
    vendor.set_input_files("input[name=export]", str(export))
    vendor.screenshot(path=str(shots / "fulfil-01-vendor.png"), full_page=True)
    vendor.click("#vendor-submit")
    vendor.wait_for_selector("text=Thank you")
    assert Task.objects.get(case=case, system__name="Courier").state == "done"
    assert Event.objects.filter(case=case, kind="task_answered", actor_label="vendor FastShip Ltd").exists()

    # 2. The analyst previews the package, then issues the decision.
    staff = browser.new_page(accept_downloads=True)
    staff.set_default_timeout(15_000)
    staff.goto(f"{live_server.url}/staff/cases/{case.pk}/")
    staff.fill("#id_username", "andy")
    staff.fill("#id_password", "s3cret-pass-word")
    staff.click(".login-card button[type=submit]")
    staff.wait_for_url(f"**/staff/cases/{case.pk}/")
    assert "2/2 resolved" in staff.inner_text("#fulfilment")
    staff.screenshot(path=str(shots / "fulfil-02-case.png"), full_page=True)
    with staff.expect_download() as dl:
        staff.click("#package-preview")
    preview = Path(dl.value.path()).read_bytes()
    manifest = check_manifest(preview)
    assert [s["name"] for s in manifest["systems"]] == ["Accounts", "Courier"]
    staff.click("#act-fulfil summary")
    staff.click("#act-fulfil button[type=submit]")
    staff.wait_for_selector(".messages li")
    assert "fulfilled" in staff.inner_text(".messages")
    package = AccessPackage.objects.get(case=case)
    assert package.sha256 == hashlib.sha256(preview).hexdigest()  # the preview was what is issued

    # 3. The requester downloads it from the status page after a one-time code.
    requester = browser.new_page(accept_downloads=True)
    requester.set_default_timeout(15_000)
    requester.goto(live_server.url + f"/status/{make_token(case, STATUS)}/")
    requester.click("#package-send-code")
    requester.wait_for_selector(".messages li")
    code = re.search(r": (\d{6})$", Notification.objects.filter(kind="fulfilment_package_code")
                     .latest("id").subject).group(1)
    requester.fill("#package-code", code)
    requester.screenshot(path=str(shots / "fulfil-03-status.png"), full_page=True)
    requester.click("#package-verify")
    with requester.expect_download() as dl:
        requester.click("#package-download")
    content = Path(dl.value.path()).read_bytes()
    assert hashlib.sha256(content).hexdigest() == package.sha256
    manifest = check_manifest(content)
    zf = zipfile.ZipFile(io.BytesIO(content))
    assert "Sacramento" in zf.read("systems/courier/data.csv").decode("utf-8-sig")
    assert AccessPackage.objects.get(pk=package.pk).download_count == 1
    assert Event.objects.filter(case=case, kind="package_downloaded").count() == 1
