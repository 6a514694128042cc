"""The requester downloads the package from the status page after a one-time code sent by e-mail;
downloads are audited and counted; the e-mail never carries the data; after expiry the file is
deleted and the status page says so."""
import datetime as dt
import json
import re

import pytest
from django.urls import reverse

from requests_app import services
from requests_app.fulfilment import services as fs
from requests_app.fulfilment.exports import Export
from requests_app.fulfilment.models import AccessPackage
from requests_app.models import Event, Notification
from requests_app.sweep import run_sweep
from requests_app.tokens import STATUS, make_token

from .helpers import task

T0 = dt.datetime(2026, 3, 2, 17, 0, tzinfo=dt.timezone.utc)
pytestmark = pytest.mark.usefixtures("now")
SECRET = "ana-secret-order-history"


@pytest.fixture
def issued(datamap, worked, run, manager, owner):
    case = worked("US-CA", "access")
    fs.answer_task(task(case, "Accounts"), fs.Answer("done", export=Export(
        "a.json", "json", json.dumps({"note": SECRET}).encode())), user=owner)
    for name in ("Orders", "Courier"):
        fs.answer_task(task(case, name), fs.Answer("no_data"), user=owner if name == "Orders" else None,
                       actor_label="connector")
    run(services.fulfil, case, manager, decision={})
    return case


def status_url(case):
    return reverse("public:status", args=[make_token(case, STATUS)])


def code_from(mailoutbox):
    """The code e-mail in the outbox (the test client's requests never commit, so it is not sent)."""
    note = Notification.objects.filter(kind="fulfilment_package_code").latest("id")
    assert note.to == ["ana@example.com"]
    return re.search(r": (\d{6})$", note.subject).group(1)


def test_no_email_carries_the_data(issued, mailoutbox):
    for m in mailoutbox:
        assert SECRET not in m.body
        assert all(SECRET.encode() not in (a[1] if isinstance(a[1], bytes) else a[1].encode())
                   for a in m.attachments)
    assert any("ready to download" in m.body for m in mailoutbox if m.to == ["ana@example.com"])


def test_the_requester_downloads_after_a_one_time_code(client, issued, mailoutbox):
    token = make_token(issued, STATUS)
    page = client.get(status_url(issued)).content.decode()
    assert "Send me a code" in page and "package-download" not in page
    assert client.get(reverse("fulfilment:package_download", args=[token])).status_code == 302  # no code yet
    client.post(reverse("fulfilment:package_code", args=[token]))
    code = code_from(mailoutbox)
    client.post(reverse("fulfilment:package_verify", args=[token]), {"code": code})
    r = client.get(reverse("fulfilment:package_download", args=[token]))
    assert r.status_code == 200 and r["Content-Type"] == "application/zip"
    assert "no-store" in r["Cache-Control"]
    client.get(reverse("fulfilment:package_download", args=[token]))
    package = AccessPackage.objects.get(case=issued)
    assert package.download_count == 2
    assert Event.objects.filter(case=issued, kind="package_downloaded", public=True).count() == 2
    # the code was single-use: another browser cannot reuse it
    other = client.__class__()
    other.post(reverse("fulfilment:package_verify", args=[token]), {"code": code})
    assert other.get(reverse("fulfilment:package_download", args=[token])).status_code == 302


def test_a_wrong_code_is_refused_and_audited_and_burns_after_five_tries(client, issued, mailoutbox):
    token = make_token(issued, STATUS)
    client.post(reverse("fulfilment:package_code", args=[token]))
    code = code_from(mailoutbox)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        client.post(reverse("fulfilment:package_verify", args=[token]), {"code": wrong})
    client.post(reverse("fulfilment:package_verify", args=[token]), {"code": code})
    assert client.get(reverse("fulfilment:package_download", args=[token])).status_code == 302
    assert Event.objects.filter(case=issued, kind="package_code_failed").count() == 6


def test_after_expiry_the_file_is_deleted_and_the_status_page_says_so(client, issued, now, settings):
    package = AccessPackage.objects.get(case=issued)
    path = package.file.path
    now(T0 + dt.timedelta(days=settings.DSAR_PACKAGE_DAYS, hours=1))
    result = run_sweep()
    assert result.steps["fulfilment"]["packages_expired"] == 1
    package.refresh_from_db()
    assert package.deleted_at is not None and not package.file
    import os

    assert not os.path.exists(path)
    assert package.manifest["files"]  # the manifest remains
    from requests_app.fulfilment.models import TaskFile

    export = TaskFile.objects.get(task__case=issued)
    assert not export.file and len(export.sha256) == 64  # the export it came from is gone too, its hash kept
    page = client.get(status_url(issued)).content.decode()
    assert "the file was deleted" in page and "Send me a code" not in page
    assert Event.objects.filter(case=issued, kind="package_expired", public=True).count() == 1
    assert run_sweep().steps["fulfilment"]["packages_expired"] == 0


def test_the_status_page_speaks_the_requesters_language(client, datamap, worked, run, manager, owner):
    case = worked("MX", "access", language="es")
    run(services.determine, case, manager, admissible=True)
    for name in ("Accounts", "Orders"):
        fs.answer_task(task(case, name), fs.Answer("done", export=Export("a.json", "json", b"{}")), user=owner)
    fs.answer_task(task(case, "Courier"), fs.Answer("no_data"), actor_label="connector")
    run(services.fulfil, case, manager, decision={})
    page = client.get(status_url(case)).content.decode()
    assert "Enviarme un código" in page
    assert re.search(r"hasta el \d{1,2} de \w+ de 2026", page)  # the date as a Spanish reader writes it
