"""A vendor answers through a signed, expiring, single-use link, without an account; every
answer is audited, and bad links and bad files get a clear answer with nothing half-stored."""
import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from requests_app.fulfilment.models import TaskFile
from requests_app.models import Event

from .helpers import EXPORT, task, vendor_url, zip_of

T0 = dt.datetime(2026, 3, 2, 17, 0, tzinfo=dt.timezone.utc)
pytestmark = pytest.mark.usefixtures("now")


@pytest.fixture
def vendor_case(datamap, worked):
    return worked("US-CA", "access")


def post(client, url, **data):
    return client.post(url, data)


def test_it_takes_a_vendor_export_without_an_account(client, vendor_case, mailoutbox):
    url = vendor_url(mailoutbox)
    page = client.get(url)
    assert page.status_code == 200 and b"Ana Example" in page.content
    assert Event.objects.filter(case=vendor_case, kind="vendor_link_opened").count() == 1
    answer = client.post(url, {"outcome": "done", "export": SimpleUploadedFile("ship.json", EXPORT)})
    assert answer.status_code == 200 and b"Thank you" in answer.content
    t = task(vendor_case, "Courier")
    assert t.state == "done" and t.completed_label == "vendor FastShip Ltd"
    stored = TaskFile.objects.get(task=t)
    assert stored.kind == "json" and stored.file.read() == EXPORT
    event = Event.objects.get(case=vendor_case, kind="task_answered")
    assert event.actor_label == "vendor FastShip Ltd" and event.data["via"] == "vendor"
    assert event.data["file_sha256"] == stored.sha256


def test_it_takes_a_zip_of_json_and_csv(client, vendor_case, mailoutbox):
    content = zip_of({"a.json": EXPORT, "b.csv": b"order,total\r\nO-1,12.50\r\n"})
    r = client.post(vendor_url(mailoutbox), {"outcome": "done", "export": SimpleUploadedFile("all.zip", content)})
    assert r.status_code == 200
    assert TaskFile.objects.get(task=task(vendor_case, "Courier")).kind == "zip"


def test_a_vendor_can_confirm_an_erasure_and_say_it_holds_no_data(client, datamap, worked, mailoutbox):
    case = worked("US-CA", "deletion")
    r = client.post(vendor_url(mailoutbox), {"outcome": "done", "records_affected": "4"})
    assert r.status_code == 200
    assert task(case, "Courier").records_affected == 4 and task(case, "Courier").state == "done"
    case2 = worked("US-CA", "access", requester_email="bo@example.com")
    client.post(vendor_url(mailoutbox), {"outcome": "no_data"})
    assert task(case2, "Courier").state == "no_data"


def test_a_link_works_once(client, vendor_case, mailoutbox):
    url = vendor_url(mailoutbox)
    client.post(url, {"outcome": "no_data"})
    again = client.get(url)
    assert again.status_code == 410 and b"already used" in again.content
    assert client.post(url, {"outcome": "done"}).status_code == 410


def test_a_new_link_replaces_the_old_one(client, vendor_case, mailoutbox):
    from requests_app.fulfilment import services

    old = vendor_url(mailoutbox)
    services.send_vendor_link(task(vendor_case, "Courier"))
    assert client.get(old).status_code == 410


def test_an_expired_link_gets_a_clear_page(client, vendor_case, mailoutbox, now, settings):
    url = vendor_url(mailoutbox)
    now(T0 + dt.timedelta(days=settings.DSAR_VENDOR_LINK_DAYS, seconds=1))
    r = client.get(url)
    assert r.status_code == 410 and b"expired" in r.content


def test_a_tampered_link_gets_a_clear_page(client, vendor_case, mailoutbox):
    url = vendor_url(mailoutbox)
    r = client.get(url[:-6] + "AAAAA/")
    assert r.status_code == 400 and b"not valid" in r.content


@pytest.mark.parametrize("name,content,message", [
    ("id.pdf", b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n", b"PDF file"),
    ("broken.zip", zip_of({"a.json": EXPORT})[:-30], b"damaged"),
    ("bad.json", b'{"unterminated": ', b"not valid"),
    ("evil.zip", zip_of({"../../etc/x.json": EXPORT}), b"outside"),
    ("mixed.zip", zip_of({"a.json": EXPORT, "run.exe": b"MZ\x90\x00"}), b"only JSON and CSV"),
])
def test_it_refuses_a_bad_file_and_stores_nothing(client, vendor_case, mailoutbox, name, content, message):
    url = vendor_url(mailoutbox)
    r = client.post(url, {"outcome": "done", "export": SimpleUploadedFile(name, content)})
    assert r.status_code == 400 and message in r.content
    t = task(vendor_case, "Courier")
    assert t.state == "open" and not TaskFile.objects.filter(task=t).exists()
    assert client.get(url).status_code == 200  # the link still works for a corrected upload


def test_it_refuses_a_corrupt_member_of_a_zip(client, vendor_case, mailoutbox):
    good = zip_of({"a.json": EXPORT})
    bad = good.replace(EXPORT[:10], b"X" * 10) if EXPORT[:10] in good else bytearray(good)
    if isinstance(bad, bytearray):  # compressed: flip a byte of the member's data instead
        bad[40] ^= 0xFF
        bad = bytes(bad)
    r = client.post(vendor_url(mailoutbox), {"outcome": "done", "export": SimpleUploadedFile("a.zip", bad)})
    assert r.status_code == 400 and b"damaged" in r.content


def test_it_refuses_a_file_over_the_size_limit(client, vendor_case, mailoutbox, settings):
    settings.DSAR_UPLOAD_MAX_BYTES = 1024
    r = client.post(vendor_url(mailoutbox), {"outcome": "done",
                                             "export": SimpleUploadedFile("big.json", b"[" + b"1," * 2000 + b"1]")})
    assert r.status_code == 400 and b"larger than" in r.content
    assert not TaskFile.objects.exists()


def test_it_refuses_a_zip_that_unpacks_too_far(client, vendor_case, mailoutbox, settings):
    settings.DSAR_EXPORT_MAX_UNZIPPED_BYTES = 10_000
    bomb = zip_of({"a.json": b"[" + b"0," * 20_000 + b"0]"})  # small packed, 40 kB unpacked
    r = client.post(vendor_url(mailoutbox), {"outcome": "done", "export": SimpleUploadedFile("a.zip", bomb)})
    assert r.status_code == 400 and b"unpacks to more" in r.content
    assert not TaskFile.objects.exists()


def test_the_vendor_email_carries_no_personal_data(vendor_case, mailoutbox):
    mail = [m for m in mailoutbox if m.to == ["dpo@fastship.example"]][0]
    assert vendor_case.reference in mail.body
    assert "Ana" not in mail.body and "ana@example.com" not in mail.body


def test_a_failed_answer_leaves_no_file_behind(vendor_case, settings, monkeypatch):
    import os

    from requests_app.fulfilment import services as fs
    from requests_app.fulfilment.exports import Export
    from requests_app.fulfilment.models import Task

    def boom(self):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(Task, "complete", boom)
    with pytest.raises(RuntimeError):
        fs.answer_task(task(vendor_case, "Courier"), fs.Answer("done", export=Export("a.json", "json", EXPORT)),
                       actor_label="vendor", via="vendor")
    folder = os.path.join(settings.MEDIA_ROOT, "fulfilment", str(vendor_case.public_id))
    assert not os.path.exists(folder) or os.listdir(folder) == []
    assert not TaskFile.objects.exists()
