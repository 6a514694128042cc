"""Letter downloads from the requester's status page and the staff case page: both go through
letters.open_for_download, so each download is audited once with the right actor, and a file whose
bytes no longer match the SHA-256 recorded at issue is refused with a message, never served."""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
from pathlib import Path

import pytest
import time_machine
from django.urls import reverse

from requests_app import services
from requests_app.models import Event, Letter
from requests_app.tokens import STATUS, make_token

from .public_helpers import fresh_cache  # noqa: F401 - autouse: a clean rate-limit cache per test

T0 = dt.datetime(2026, 3, 2, 17, 0, tzinfo=dt.timezone.utc)  # Monday
KNOW = {"categories": ["Identifiers"], "sources": ["You"], "purposes": ["Fulfilling orders"],
        "recipients": ["Couriers"],
        "data": {"account": {"name": "Ana Example", "email": "ana@example.com"}, "orders": {"count": 3}}}


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(T0, tick=False):
        yield


def status_path(case) -> str:
    return f"/status/{make_token(case, STATUS)}/"


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def stored(letter) -> bytes:
    with letter.file.open("rb") as fh:
        return fh.read()


def acknowledged(submit, run, jurisdiction="DE", **kw):
    case = submit(jurisdiction, "access", **kw)
    run(services.confirm_email, case)
    return case, case.letters.get(kind="acknowledgement", status="issued")


def access_fulfilled(submit, run, manager):
    case = submit("DE", "access")
    case = run(services.confirm_email, case)
    case = run(services.verify_identity, case, manager, method="Signed in to the account")
    run(services.fulfil, case, manager, decision=KNOW)
    return case, case.letters.get(kind="fulfilment", status="issued")


def downloads(case):
    return list(Event.objects.filter(case=case, kind="letter_downloaded").order_by("id"))


def tamper(letter) -> None:
    path = Path(letter.file.path)
    content = bytearray(path.read_bytes())
    content[len(content) // 2] ^= 0xFF  # one flipped byte: still looks like a PDF, no longer the one we sent
    path.write_bytes(bytes(content))


# --- the requester ---------------------------------------------------------------------------------

def test_requester_download_is_served_privately_and_audited_once_per_download(client, submit, run):
    case, letter = acknowledged(submit, run)
    url = f"{status_path(case)}letters/{letter.pk}/"
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert f'filename="{case.reference}-acknowledgement.pdf"' in response["Content-Disposition"]
    assert {"private", "no-store"} <= {p.strip() for p in response["Cache-Control"].split(",")}
    assert body(response) == stored(letter)
    [event] = downloads(case)
    assert (event.actor, event.actor_label, event.public) == (None, "requester", False)
    assert event.data == {"letter": letter.pk, "kind": "acknowledgement", "part": "pdf", "sha256": letter.sha256}
    client.get(url)
    assert len(downloads(case)) == 2  # every download, not just the first


def test_a_valid_status_link_opens_only_its_own_cases_letters(client, submit, run):
    case, letter = acknowledged(submit, run)
    other, _ = acknowledged(submit, run, requester_email="other@example.com")
    assert client.get(f"{status_path(other)}letters/{letter.pk}/").status_code == 404
    assert client.get(f"{status_path(other)}letters/{letter.pk}/json/").status_code == 404
    assert not Event.objects.filter(kind__startswith="letter_d").exists()
    assert client.get(f"{status_path(case)}letters/{letter.pk}/").status_code == 200


def test_requester_gets_no_letter_that_is_not_issued_and_no_data_a_letter_does_not_carry(client, submit, run):
    case, letter = acknowledged(submit, run)
    pending = Letter.objects.create(case=case, kind="denial", language="en")
    assert client.get(f"{status_path(case)}letters/{pending.pk}/").status_code == 404
    assert client.get(f"{status_path(case)}letters/{letter.pk}/csv/").status_code == 404  # no data in an ack
    assert client.get(f"{status_path(case)}letters/{letter.pk}/exe/").status_code == 404
    assert client.get(f"/status/{make_token(case, STATUS)[:-3]}abc/letters/{letter.pk}/").status_code == 400
    assert downloads(case) == []


def test_requester_downloads_the_data_of_an_access_response(client, submit, run, manager):
    case, letter = access_fulfilled(submit, run, manager)
    page = client.get(status_path(case)).content.decode()
    base = f"{status_path(case)}letters/{letter.pk}/"
    assert f'href="{base}json/"' in page and f'href="{base}csv/"' in page
    response = client.get(f"{base}json/")
    assert response["Content-Type"] == "application/json" and "no-store" in response["Cache-Control"]
    assert f'attachment; filename="{case.reference}-data.json"' == response["Content-Disposition"]
    assert json.loads(body(response)) == KNOW["data"]
    response = client.get(f"{base}csv/")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(body(response).decode("utf-8-sig"))))
    assert ["account", "email", "ana@example.com"] in rows and ["orders", "count", "3"] in rows
    assert [(e.actor_label, e.data["part"]) for e in downloads(case)] == [("requester", "json"), ("requester", "csv")]
    # The audit records the fingerprint of the bytes served; the same bytes come every time.
    assert downloads(case)[1].data["sha256"] == hashlib.sha256(body(client.get(f"{base}csv/"))).hexdigest()


def test_requester_is_refused_a_tampered_letter_with_a_message(client, submit, run):
    case, letter = acknowledged(submit, run)
    tamper(letter)
    url = f"{status_path(case)}letters/{letter.pk}/"
    response = client.get(url)
    assert response.status_code == 302 and response["Location"] == status_path(case)
    assert "no-store" in response["Cache-Control"]
    page = client.get(response["Location"]).content.decode()
    assert "failed its integrity check" in page and case.reference in page
    assert downloads(case) == []
    [event] = Event.objects.filter(case=case, kind="letter_integrity_failed")
    assert (event.actor, event.actor_label, event.data["letter"]) == (None, "requester", letter.pk)


def test_the_refusal_speaks_the_requesters_language(client, submit, run):
    from django.core.management import call_command
    from django.utils.translation import trans_real

    call_command("compile_translations", stdout=io.StringIO())  # as test.sh does
    trans_real._translations, trans_real._default = {}, None
    case, letter = acknowledged(submit, run, jurisdiction="MX", language="es")
    tamper(letter)
    page = client.get(f"{status_path(case)}letters/{letter.pk}/", follow=True).content.decode()
    assert "no ha superado su control de integridad" in page and case.reference in page


# --- staff -----------------------------------------------------------------------------------------

def test_staff_download_is_audited_with_the_user_and_permission_checked(client, submit, run, analyst, auditor,
                                                                       manager):
    case, letter = acknowledged(submit, run, jurisdiction="US-CA")
    url = reverse("staff:letter", args=[letter.pk])
    client.force_login(analyst)  # not assigned: may read the case, not open its files
    assert client.get(url).status_code == 403
    assert downloads(case) == []
    services.assign(case, manager, analyst)
    for user in (analyst, auditor):
        client.force_login(user)
        response = client.get(url)
        assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
        assert response["Content-Disposition"] == (
            f'attachment; filename="{case.reference}-acknowledgement-{letter.pk}.pdf"')
        assert {"private", "no-store"} <= {p.strip() for p in response["Cache-Control"].split(",")}
        assert body(response) == stored(letter)
    assert [(e.actor, e.actor_label, e.data["part"]) for e in downloads(case)] == [
        (analyst, analyst.username, "pdf"), (auditor, auditor.username, "pdf")]


def test_staff_download_the_data_of_an_access_response(client, submit, run, manager):
    case, letter = access_fulfilled(submit, run, manager)
    client.force_login(manager)
    html = client.get(reverse("staff:case", args=[case.pk])).content.decode()
    assert reverse("staff:letter_part", args=[letter.pk, "json"]) in html
    assert reverse("staff:letter_part", args=[letter.pk, "csv"]) in html
    response = client.get(reverse("staff:letter_part", args=[letter.pk, "json"]))
    assert response.status_code == 200 and json.loads(body(response)) == KNOW["data"]
    assert "no-store" in response["Cache-Control"] and "attachment" in response["Content-Disposition"]
    assert client.get(reverse("staff:letter_part", args=[letter.pk, "xml"])).status_code == 404
    ack = case.letters.get(kind="acknowledgement")
    assert client.get(reverse("staff:letter_part", args=[ack.pk, "json"])).status_code == 404
    assert [(e.actor, e.data["part"]) for e in downloads(case)] == [(manager, "json")]


def test_staff_are_refused_a_tampered_letter_with_a_message(client, submit, run, manager):
    case, letter = access_fulfilled(submit, run, manager)
    tamper(letter)
    client.force_login(manager)
    for part in ("pdf", "csv"):  # the data goes out only with an intact letter
        url = reverse("staff:letter_part", args=[letter.pk, part])
        response = client.get(url, follow=True)
        assert response.redirect_chain == [(reverse("staff:case", args=[case.pk]), 302)]
        html = response.content.decode()
        assert "was not served" in html and "letter_integrity_failed" in html
    assert downloads(case) == []
    events = Event.objects.filter(case=case, kind="letter_integrity_failed")
    assert [(e.actor, e.actor_label) for e in events] == [(manager, manager.username)] * 2
