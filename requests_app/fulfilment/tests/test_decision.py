"""The decision waits for the tasks (or a manager's written reason), takes the know disclosures
from the data map, lists what was done per system, states a refused erasure as a partial refusal,
and issues the access package: a hashed, immutable ZIP with a manifest, JSON and CSV per system
and a summary in the requester's language."""
import datetime as dt
import hashlib
import io
import json
import zipfile

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from requests_app import services
from requests_app.fulfilment import services as fs
from requests_app.fulfilment.exports import Export
from requests_app.fulfilment.models import AccessPackage
from requests_app.models import Event, Letter

from .helpers import EXPORT, task

T0 = dt.datetime(2026, 3, 2, 17, 0, tzinfo=dt.timezone.utc)
pytestmark = pytest.mark.usefixtures("now")


def answer(case, name, outcome="done", user=None, **kw):
    return fs.answer_task(task(case, name), fs.Answer(outcome=outcome, **kw), user=user,
                          actor_label="" if user else "connector test", via="staff" if user else "connector")


def resolve_access(case, owner):
    answer(case, "Accounts", user=owner, export=Export("accounts.json", "json", json.dumps(
        {"email": "ana@example.com", "name": "Ana Example"}).encode()))
    answer(case, "Orders", user=owner, export=Export("orders.csv", "csv", b"order,total\r\nO-1,=1+2\r\n"))
    answer(case, "Courier", outcome="no_data")


def test_it_refuses_a_decision_while_tasks_are_open(datamap, worked, run, manager):
    case = worked("US-CA", "access")
    with pytest.raises(services.ServiceError, match="3 fulfilment task"):
        run(services.fulfil, case, manager, decision={})
    assert case.letters.filter(kind="fulfilment").count() == 0


def test_the_case_page_offers_the_decision_only_when_every_task_is_resolved(client, datamap, worked, manager,
                                                                            owner):
    case = worked("US-CA", "access")
    client.force_login(manager)
    page = client.get(reverse("staff:case", args=[case.pk])).content.decode()
    assert "0/3 resolved" in page and 'id="act-fulfil"' not in page
    resolve_access(case, owner)
    page = client.get(reverse("staff:case", args=[case.pk])).content.decode()
    assert "3/3 resolved" in page and 'id="act-fulfil"' in page and "Preview the access package" in page


def test_a_manager_may_allow_the_decision_with_open_tasks_in_writing(datamap, worked, run, manager, analyst):
    case = worked("US-CA", "access")
    with pytest.raises(PermissionDenied):
        fs.allow_decision_with_open_tasks(case, analyst, "I want to")
    with pytest.raises(services.ServiceError):
        fs.allow_decision_with_open_tasks(case, manager, "  ")
    fs.allow_decision_with_open_tasks(case, manager, "The courier is in liquidation; legal deadline tomorrow")
    run(services.partially_fulfil, case, manager, reasons="The courier did not answer",
        decision={"categories": ["x"], "sources": ["x"], "purposes": ["x"], "recipients": ["x"]})
    case.refresh_from_db()
    assert case.state == "partially_fulfilled"
    override = Event.objects.get(case=case, kind="decision_with_open_tasks")
    assert override.actor == manager and len(override.data["open_tasks"]) == 3


def test_an_allowance_does_not_cover_work_opened_after_it(datamap, worked, run, manager, owner):
    case = worked("US-CA", "deletion")
    fs.allow_decision_with_open_tasks(case, manager, "Deadline tomorrow")
    assert fs.open_tasks_text(case) == ""
    answer(case, "Orders", "failed", user=owner, reason_code="technical", reason="DB down")
    fs.reopen_task(task(case, "Orders"), owner, "DB is back")
    assert "still open" in fs.open_tasks_text(case)


def test_the_know_letter_takes_its_disclosures_from_the_data_map(datamap, worked, run, manager, owner):
    case = worked("US-CA", "access")
    resolve_access(case, owner)
    run(services.fulfil, case, manager, decision={})
    case.refresh_from_db()
    d = case.decision
    assert "Commercial information (transactions, purchase history)" in d["categories"]
    assert d["sources"] == ["You, when you register", "Your purchases on the platform"]
    assert d["recipients"] == ["Our cloud hosting provider", "Sellers on the platform"]
    assert "Geolocation data (approximate location)" not in d["categories"]  # the courier holds nothing


def test_it_issues_the_package_with_a_manifest_of_hashes(datamap, worked, run, manager, owner):
    case = worked("DE", "access", language="es")
    resolve_access(case, owner)
    run(services.fulfil, case, manager, decision={})
    package = AccessPackage.objects.get(case=case)
    content = package.file.read()
    assert hashlib.sha256(content).hexdigest() == package.sha256
    zf = zipfile.ZipFile(io.BytesIO(content))
    manifest = json.loads(zf.read("manifest.json"))
    assert [s["name"] for s in manifest["systems"]] == ["Accounts", "Orders"]
    assert {f["path"] for f in manifest["files"]} == {
        "systems/accounts/data.json", "systems/accounts/data.csv", "systems/orders/data.json",
        "systems/orders/data.csv", "summary.html"}
    for f in manifest["files"]:
        assert hashlib.sha256(zf.read(f["path"])).hexdigest() == f["sha256"]
    assert json.loads(zf.read("systems/accounts/data.json"))["email"] == "ana@example.com"
    assert "'=1+2" in zf.read("systems/orders/data.csv").decode("utf-8-sig")  # no formula in a spreadsheet
    assert "Sus datos personales" in zf.read("summary.html").decode()
    letter = Letter.objects.get(case=case, kind="fulfilment")
    assert letter.context["package"]["sha256"] == package.sha256
    assert "Su paquete de datos" == letter.context["package"]["heading"]
    assert "Identificadores (nombre, dirección postal y de correo electrónico, nombre de cuenta, dirección IP)" \
        in letter.context["categories"]
    import pypdf

    letter.refresh_from_db()
    assert letter.status == "issued"
    text = " ".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(letter.file.read())).pages)
    flat = " ".join(text.split())
    assert "Su paquete de datos" in flat and package.sha256[:16] in flat.replace(" ", "")


def test_the_package_is_immutable(datamap, worked, run, manager, owner):
    case = worked("US-CA", "access")
    resolve_access(case, owner)
    run(services.fulfil, case, manager, decision={})
    package = AccessPackage.objects.get(case=case)
    package.sha256 = "0" * 64
    with pytest.raises(PermissionError):
        package.save()
    with pytest.raises(PermissionError):
        AccessPackage.objects.filter(pk=package.pk).update(manifest={})
    with pytest.raises(PermissionError):
        AccessPackage.objects.filter(pk=package.pk).delete()


def test_the_preview_is_the_package_that_is_issued(client, datamap, worked, run, manager, owner):
    case = worked("US-CA", "access")
    resolve_access(case, owner)
    client.force_login(manager)
    preview = b"".join(client.get(reverse("fulfilment:package_preview", args=[case.pk])).streaming_content)
    assert Event.objects.filter(case=case, kind="package_previewed", actor=manager).exists()
    run(services.fulfil, case, manager, decision={})
    assert hashlib.sha256(preview).hexdigest() == AccessPackage.objects.get(case=case).sha256


def test_a_portability_package_says_it_is_machine_readable(datamap, worked, run, manager, owner):
    case = worked("DE", "portability")
    resolve_access(case, owner)
    run(services.fulfil, case, manager, decision={})
    package = AccessPackage.objects.get(case=case)
    assert package.portable and package.manifest["portable"] is True


def test_erasures_are_listed_per_system_and_a_legal_hold_is_a_partial_refusal(datamap, worked, run, manager,
                                                                             owner):
    case = worked("US-CA", "deletion")
    answer(case, "Accounts", user=owner, records_affected=3)
    answer(case, "Orders", "failed", user=owner, reason_code="retention_duty",
           reason="Invoices are kept 10 years for tax law")
    answer(case, "Courier", outcome="no_data")
    with pytest.raises(services.ServiceError, match="partial fulfilment"):
        run(services.fulfil, case, manager, decision={})
    run(services.partially_fulfil, case, manager, reasons="We must keep your invoices.", decision={})
    letter = Letter.objects.get(case=case, kind="fulfilment")
    assert "Accounts: 3 record(s) erased" in letter.context["actions"]
    assert "Courier (FastShip Ltd): none found" in letter.context["actions"]
    assert letter.context["retained"] == ["Orders: Invoices are kept 10 years for tax law (a legal duty to keep it)"]


def test_the_lines_per_system_are_in_the_requesters_language(datamap, worked, run, manager, owner):
    case = worked("BR", "anonymisation_blocking_deletion", language="pt-br")
    answer(case, "Accounts", user=owner, records_affected=3)
    answer(case, "Orders", "failed", user=owner, reason_code="legal_hold", reason="Processo judicial em curso")
    answer(case, "Courier", outcome="no_data")
    run(services.partially_fulfil, case, manager, reasons="Retenção judicial", decision={})
    letter = Letter.objects.get(case=case, kind="fulfilment")
    assert "Accounts: 3 registro(s) excluído(s)" in letter.context["actions"]
    assert "Courier (FastShip Ltd): nenhum dado encontrado" in letter.context["actions"]
    assert letter.context["retained"] == ["Orders: Processo judicial em curso (retenção por ordem legal)"]


def test_a_know_response_missing_a_disclosure_stores_no_package(datamap, worked, run, manager, owner, settings):
    import os

    from django.core.exceptions import ValidationError

    DataSystemModel = type(datamap["accounts"])
    DataSystemModel.objects.update(purposes="")
    case = worked("US-CA", "access")
    resolve_access(case, owner)
    with pytest.raises(ValidationError):
        run(services.fulfil, case, manager, decision={})
    assert not AccessPackage.objects.exists()
    assert not os.path.exists(os.path.join(settings.MEDIA_ROOT, "packages", str(case.public_id)))


def test_a_reversed_appeal_reopens_the_refused_work(datamap, worked, run, manager,
                                                                              owner):
    """The core records 'reopen' when a reversed appeal reopens a request (spec section 5); the
    refused and dropped tasks are open again, due inside the clock the case now owes."""
    from requests_app.fulfilment.models import Task
    from requests_app.models import DataSubjectRequest

    case = worked("US-CO", "deletion")
    answer(case, "Accounts", user=owner, records_affected=2)
    answer(case, "Orders", "failed", user=owner, reason_code="legal_hold", reason="Litigation hold")
    answer(case, "Courier", outcome="no_data")
    run(services.partially_fulfil, case, manager, reasons="Litigation hold on orders", decision={})
    # What the core does on a reversed appeal: the case is in progress again, and says so.
    DataSubjectRequest.objects.filter(pk=case.pk).update(state="in_progress", closed_at=None)
    run(services.record, case, "reopen", user=manager, reason="The hold was lifted", from_state="partially_fulfilled",
        to_state="in_progress")
    orders = task(case, "Orders")
    assert orders.state == "open" and orders.reminder_level == 0
    assert Task.objects.get(case=case, system__name="Accounts").state == "done"  # what was done stays done
    assert Event.objects.get(case=case, kind="tasks_resumed").data["tasks"] == 1
