"""The case page and every case transition through the UI (POSTs via the test client): the
buttons offered, what each form requires by law, optimistic-lock conflicts, masking and the
audited reveal, notes, and permission-checked, audited downloads."""
import datetime as dt
import re

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from requests_app import regimes as R
from requests_app import services
from requests_app.models import Attachment, DataSubjectRequest, Deadline, Event, Letter, Note, State

UTC = dt.timezone.utc
T0 = dt.datetime(2026, 3, 2, 17, 0, tzinfo=UTC)  # Monday 09:00 in California


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def new_case(jurisdiction="US-CA", request_type="access", *, confirm=True, verify=False, user=None, **kw):
    kw.setdefault("requester_name", "Ana Example")
    kw.setdefault("requester_email", "ana@example.com")
    if jurisdiction == "MX":
        kw.setdefault("data_description", "My order history")
    case = services.submit_request(jurisdiction=jurisdiction, request_types=[request_type], **kw)[0]
    if confirm:
        services.confirm_email(case)
    if verify:
        services.verify_identity(case, user, method="account login")
    return DataSubjectRequest.objects.get(pk=case.pk)


def fresh(case):
    return DataSubjectRequest.objects.get(pk=case.pk)


def act(client, case, action, version=None, **data):
    version = fresh(case).version if version is None else version
    return client.post(reverse("staff:case_action", args=[case.pk, action]), {"version": version, **data})


def page(client, case):
    response = client.get(reverse("staff:case", args=[case.pk]))
    assert response.status_code == 200
    return response.content.decode()


def offered(html) -> set[str]:
    return set(re.findall(r"/act/([a-z_]+)/", html))


def test_buttons_are_the_transitions_this_user_may_take_now(client, manager, analyst):
    client.force_login(manager)
    case = new_case("US-CA", "access")  # verifying
    assert offered(page(client, case)) == {"verify", "request_information", "deny", "withdraw", "close_not_filed",
                                           "extend", "assign", "note"}
    services.verify_identity(case, manager, method="login")
    assert offered(page(client, case)) == {"request_information", "fulfil", "partially_fulfil", "deny", "withdraw",
                                           "extend", "assign", "note"}
    mx = new_case("MX", verify=True, user=manager, requester_email="mx@example.com")
    assert offered(page(client, mx)) == {"request_information", "determine", "withdraw", "extend", "assign", "note"}
    optout = new_case("US-CA", "opt_out_sale_sharing", requester_email="o@example.com")  # in progress, no extension
    assert "extend" not in offered(page(client, optout))
    services.assign(case, manager, analyst)
    client.force_login(analyst)  # an analyst on their own case: no assigning
    assert offered(page(client, case)) == {"request_information", "fulfil", "partially_fulfil", "deny", "withdraw",
                                           "extend", "note"}


def test_verify_identity_needs_a_method(client, manager):
    client.force_login(manager)
    case = new_case()
    response = act(client, case, "verify", method="")
    assert response.status_code == 400 and "This field is required." in response.content.decode()
    response = act(client, case, "verify", method="matched three data points")
    assert response.status_code == 302
    case = fresh(case)
    assert case.state == State.IN_PROGRESS and case.verified_at is not None
    assert Event.objects.get(case=case, kind="identity_verified").reason == "matched three data points"


def test_ccpa_know_response_requires_categories_sources_purposes_recipients(client, manager):
    client.force_login(manager)
    case = new_case(verify=True, user=manager)
    response = act(client, case, "fulfil", actions="Sent your order history.")
    html = response.content.decode()
    assert response.status_code == 400
    # The service names each missing disclosure (Cal. Civ. Code §1798.110(a)); shown on its field.
    assert html.count("Required for a CCPA right-to-know response.") == 4
    assert "Sent your order history." in html  # what was typed is kept
    assert fresh(case).state == State.IN_PROGRESS
    response = act(client, case, "fulfil", actions="Sent your order history.", categories="Identifiers\nOrders",
                   sources="You\nPayment processors", purposes="Fulfilling orders", recipients="Couriers",
                   data_files=[SimpleUploadedFile("Account.json", b'{"e-mail": "ana@example.com"}'),
                               SimpleUploadedFile("Orders.json", b'["#1", "#2"]')])
    assert response.status_code == 302
    case = fresh(case)
    assert case.state == State.FULFILLED
    assert case.decision == {"actions": ["Sent your order history."], "categories": ["Identifiers", "Orders"],
                             "sources": ["You", "Payment processors"], "purposes": ["Fulfilling orders"],
                             "recipients": ["Couriers"],
                             "data": {"Account": {"e-mail": "ana@example.com"}, "Orders": ["#1", "#2"]}}
    letter = Letter.objects.get(case=case, kind="fulfilment")
    assert letter.context["categories"] == ["Identifiers", "Orders"] and letter.context["data"]["Orders"] == ["#1", "#2"]
    assert "Identifiers; Orders" in page(client, case)


def test_access_data_is_uploaded_as_checked_files(client, manager):
    client.force_login(manager)
    case = new_case("DE", verify=True, user=manager)
    html = page(client, case)
    assert "How long we keep it (GDPR Art. 15(1)(d))" in html
    assert 'type="file" name="data_files"' in html and 'name="data"' not in html  # no hand-typed JSON
    response = act(client, case, "fulfil", data_files=[SimpleUploadedFile("x.json", b"{not json")],
                   purposes="Orders")
    assert response.status_code == 400 and "x.json is not valid JSON" in response.content.decode()
    exe = b"MZ\x90\x00" + b"\x00" * 60 + b"This program cannot be run in DOS mode"
    response = act(client, case, "fulfil", data_files=[SimpleUploadedFile("data.csv", exe)], purposes="Orders")
    assert response.status_code == 400 and "data.csv is not a JSON, CSV or ZIP file." in response.content.decode()
    assert act(client, case, "fulfil", purposes="Orders", retention="6 years (tax law)").status_code == 302
    assert fresh(case).decision == {"purposes": ["Orders"], "retention": ["6 years (tax law)"]}


def test_service_validation_errors_show_on_their_fields(client, manager):
    """Only the missing disclosures are flagged; blank lines do not count as an answer."""
    client.force_login(manager)
    case = new_case(verify=True, user=manager)
    response = act(client, case, "partially_fulfil", reasons="Trade secrets", categories="Identifiers",
                   sources="You", purposes="Orders", recipients="\n \n")
    html = response.content.decode()
    assert response.status_code == 400 and html.count("Required for a CCPA right-to-know response.") == 1
    assert fresh(case).state == State.IN_PROGRESS


def test_partial_fulfilment_and_denial_need_reasons(client, manager):
    client.force_login(manager)
    gdpr = new_case("DE", verify=True, user=manager, requester_email="de@example.com")
    response = act(client, gdpr, "partially_fulfil", reasons="")
    assert response.status_code == 400 and "This field is required." in response.content.decode()
    assert act(client, gdpr, "partially_fulfil", reasons="Third-party data withheld (Art. 15(4)).").status_code == 302
    assert fresh(gdpr).state == State.PARTIALLY_FULFILLED
    assert fresh(gdpr).decision_reasons == "Third-party data withheld (Art. 15(4))."

    colorado = new_case("US-CO", verify=True, user=manager, requester_email="co@example.com")
    response = act(client, colorado, "deny", reasons="   ", basis="exempt")
    assert response.status_code == 400
    assert act(client, colorado, "deny", reasons="Trade secrets only.", basis="exempt",
               legal_basis="C.R.S. 6-1-1304(3)").status_code == 302
    colorado = fresh(colorado)
    assert colorado.state == State.DENIED
    assert colorado.decision == {"basis": "exempt", "legal_basis": "C.R.S. 6-1-1304(3)"}
    # A Colorado denial opens the 45-day appeal window (company policy, section K).
    assert colorado.deadlines.get(kind=R.APPEAL_WINDOW).status == "open"
    assert "record_appeal" in offered(page(client, colorado))


def test_request_information_uk_identity_restarts_and_clarification_pauses(client, manager, frozen):
    client.force_login(manager)
    case = new_case("GB", requester_email="uk@example.com")
    html = page(client, case)
    assert "Proof of identity — the clock restarts when it arrives" in html
    assert 'value="information"' not in html  # UK: identity or clarification (Art. 12A)
    response = act(client, case, "request_information", what="identity", message="Please send a photo ID.")
    assert response.status_code == 302
    case = fresh(case)
    assert case.state == State.AWAITING_REQUESTER and case.awaiting == "identity"
    assert case.deadlines.get(kind="respond").paused_since == dt.date(2026, 3, 2)
    assert Letter.objects.filter(case=case, kind="request_information").exists()
    # The ID arrives by post ten days later; staff record it with the scan.
    frozen.move_to(T0 + dt.timedelta(days=10))
    response = client.post(reverse("staff:case_action", args=[case.pk, "receive_reply"]), {
        "version": case.version, "message": "Passport copy received by post",
        "upload": _file("passport.pdf", b"%PDF-1.4 passport")})
    assert response.status_code == 302
    case = fresh(case)
    assert case.state == State.VERIFYING
    respond = case.deadlines.get(kind="respond")
    assert respond.start_date == dt.date(2026, 3, 12) and respond.due_date == dt.date(2026, 4, 13)  # restarted
    assert case.attachments.get().kind == Attachment.Kind.IDENTITY
    assert Event.objects.filter(case=case, kind="clock_restarted").exists()
    # A clarification pauses instead.
    services.verify_identity(case, manager, method="passport")
    response = act(client, fresh(case), "request_information", what="clarification",
                   message="Which account do you mean?")
    assert response.status_code == 302
    assert fresh(case).deadlines.get(kind="respond").paused_since == dt.date(2026, 3, 12)


def _file(name, content):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content, content_type="application/pdf")


def test_receive_reply_needs_an_answer_or_a_document(client, manager):
    client.force_login(manager)
    case = new_case("GB")
    act(client, case, "request_information", what="identity", message="ID please")
    response = act(client, case, "receive_reply", message="")
    assert response.status_code == 400 and "Write the answer or attach the document received." in \
        response.content.decode()


def test_mexico_information_once_then_determination_then_fulfilment(client, manager):
    client.force_login(manager)
    case = new_case("MX", verify=True, user=manager)
    assert "Missing information (once only, LFPDPPP)" in page(client, case)
    assert act(client, case, "request_information", what="information",
               message="Send your account ID").status_code == 302
    case = fresh(case)
    assert case.state == State.AWAITING_REQUESTER
    # 10 business days; Monday 16 March 2026 is a holiday in Mexico (Benito Juárez's birthday).
    assert case.deadlines.get(kind=R.REQUESTER_REPLY, status="open").due_date == dt.date(2026, 3, 17)
    assert act(client, case, "receive_reply", message="Account 123").status_code == 302
    case = fresh(case)
    assert case.state == State.IN_PROGRESS
    assert "request_information" not in offered(page(client, case))  # once only
    response = act(client, case, "request_information", what="information", message="again")
    assert response.status_code == 403
    # Inadmissible needs reasons; admissible starts the 15 business days to make it effective.
    response = act(client, case, "determine", admissible="no", reasons="")
    assert response.status_code == 400 and "must state its reasons" in response.content.decode()
    assert act(client, case, "determine", admissible="yes").status_code == 302
    case = fresh(case)
    assert case.state == State.ADMISSIBLE
    # 15 business days from Monday 2 March, skipping the 16 March holiday.
    assert case.deadlines.get(kind=R.EFFECTIVE).due_date == dt.date(2026, 3, 24)
    assert {"fulfil", "partially_fulfil", "deny"} <= offered(page(client, case))
    assert act(client, case, "fulfil", actions="Access given in your account").status_code == 302
    assert fresh(case).state == State.FULFILLED


def test_mexico_inadmissible(client, manager):
    client.force_login(manager)
    case = new_case("MX", verify=True, user=manager)
    assert act(client, case, "determine", admissible="no", reasons="We hold no such data.").status_code == 302
    case = fresh(case)
    assert case.state == State.INADMISSIBLE and case.closed_at is not None


def test_withdraw_and_close_not_filed(client, manager):
    client.force_login(manager)
    a = new_case("DE", requester_email="a@example.com")
    assert act(client, a, "withdraw", reason="Requester phoned to withdraw").status_code == 302
    assert fresh(a).state == State.WITHDRAWN
    b = new_case("DE", requester_email="b@example.com")
    response = act(client, b, "close_not_filed", reason="")
    assert response.status_code == 400
    assert act(client, b, "close_not_filed", reason="Never verified after three reminders").status_code == 302
    assert fresh(b).state == State.NOT_FILED


def test_extend_a_deadline_with_a_reason(client, manager):
    client.force_login(manager)
    case = new_case(verify=True, user=manager)
    response = act(client, case, "extend", kind="respond", reason="")
    assert response.status_code == 400 and "This field is required." in response.content.decode()
    response = act(client, case, "extend", kind="respond", reason="Large volume of data across 4 systems")
    assert response.status_code == 302
    respond = fresh(case).deadlines.get(kind="respond")
    # §1798.130(a)(2): 45 days, extended to 90 from receipt.
    assert respond.extended and respond.due_date == dt.date(2026, 5, 31)
    event = Event.objects.get(case=case, kind="deadline_extended")
    assert event.actor == manager and event.reason == "Large volume of data across 4 systems"
    assert Letter.objects.filter(case=case, kind="extension_notice").exists()
    assert "extend" not in offered(page(client, case))  # once only


def test_analyst_extends_own_case_but_not_the_pool(client, manager, analyst):
    pool = new_case("DE", requester_email="pool@example.com")
    mine = new_case("DE", requester_email="mine@example.com")
    services.assign(mine, manager, analyst)
    client.force_login(analyst)
    assert act(client, mine, "extend", kind="respond", reason="Complex request").status_code == 302
    assert fresh(mine).deadlines.get(kind="respond").extended
    assert act(client, pool, "extend", kind="respond", reason="Complex request").status_code == 403
    # The service refuses too, whatever the UI offers.
    with pytest.raises(services.PermissionDenied):
        services.extend_deadline(pool, analyst, reason="Complex request")


def test_assign_from_the_case_page(client, manager, analyst):
    client.force_login(manager)
    case = new_case()
    assert act(client, case, "assign", assignee=analyst.pk).status_code == 302
    assert fresh(case).assignee == analyst
    assert act(client, case, "assign", assignee="none").status_code == 302
    assert fresh(case).assignee is None


def test_notes_are_internal_and_audited(client, manager):
    client.force_login(manager)
    case = new_case()
    old_version = case.version
    services.assign(case, manager, manager)  # the case changes; a note still goes in
    response = act(client, case, "note", version=old_version, text="Called the requester; ID on its way.")
    assert response.status_code == 302 and response["Location"].endswith("#notes")
    note = Note.objects.get(case=case)
    assert note.author == manager and "ID on its way" in page(client, case)
    assert Event.objects.filter(case=case, kind="note_added", actor=manager).exists()


def test_second_editor_gets_a_conflict_and_keeps_what_they_typed(client, manager):
    from tests.fixtures import make_user

    other = make_user("max", "manager")
    client.force_login(manager)
    case = new_case(verify=True, user=manager)
    loaded = fresh(case).version  # both managers opened the case at this version
    services.assign(case, other, other)  # max acts first
    reasons = "We cannot find any account for this address.\nSecond line kept."
    response = act(client, case, "deny", version=loaded, reasons=reasons, basis="unverifiable")
    html = response.content.decode()
    assert response.status_code == 409
    assert "was changed by someone else while you were editing" in html
    assert "Latest change: assigned by max" in html
    assert "We cannot find any account for this address.\nSecond line kept." in html
    assert fresh(case).state == State.IN_PROGRESS
    # The re-rendered form carries the new version: sending it again is a deliberate choice.
    current = fresh(case).version
    assert f'name="version" value="{current}"' in html
    assert act(client, case, "deny", version=current, reasons=reasons, basis="unverifiable").status_code == 302
    assert fresh(case).state == State.DENIED


def test_conflict_when_the_action_is_gone_shows_the_lost_input(client, manager):
    client.force_login(manager)
    case = new_case(verify=True, user=manager)
    loaded = fresh(case).version
    services.fulfil(case, manager, decision={"categories": ["a"], "sources": ["b"], "purposes": ["c"],
                                             "recipients": ["d"]})
    response = act(client, case, "partially_fulfil", version=loaded, reasons="Some records are exempt.",
                   categories="x", sources="y", purposes="z", recipients="w")
    html = response.content.decode()
    assert response.status_code == 409
    assert "What you typed (not saved" in html and "Some records are exempt." in html
    assert fresh(case).state == State.FULFILLED


def test_requester_details_are_masked_until_revealed_and_each_reveal_is_audited(client, manager, analyst):
    client.force_login(manager)
    case = new_case(requester_email="ana.lopez@example.com", requester_name="Ana López", phone="+1 555 0100")
    html = page(client, case)
    assert "a***@example.com" in html and "ana.lopez@example.com" not in html
    assert "Ana López" not in html and "+1 555 0100" not in html
    response = client.post(reverse("staff:reveal", args=[case.pk]), {"version": case.version})
    html = response.content.decode()
    assert response.status_code == 200
    assert "ana.lopez@example.com" in html and "Ana López" in html and "+1 555 0100" in html
    client.post(reverse("staff:reveal", args=[case.pk]), {"version": case.version})
    reveals = Event.objects.filter(case=case, kind="requester_revealed")
    assert reveals.count() == 2 and set(reveals.values_list("actor__username", flat=True)) == {"mia"}
    assert "ana.lopez@example.com" not in page(client, case)  # masked again on the next view
    # An analyst reveals only on their own cases.
    client.force_login(analyst)
    assert client.post(reverse("staff:reveal", args=[case.pk])).status_code == 403
    services.assign(case, manager, analyst)
    assert client.post(reverse("staff:reveal", args=[case.pk])).status_code == 200
    assert reveals.all().count() == 3


def test_clocks_with_their_history_timeline_letters_and_emails(client, manager, run):
    client.force_login(manager)
    case = new_case(confirm=False)
    run(services.confirm_email, case)  # renders the acknowledgement letter and sends its e-mail
    run(services.extend_deadline, fresh(case), manager, reason="Large volume")
    html = page(client, case)
    for text in ("Acknowledge receipt", "Respond", "11 CCR §7021(a)", "Sun 31 May 2026",
                 "Clock started: Respond, due Thu 16 Apr 2026", "Deadline extended: Respond, now due Sun 31 May 2026",
                 "Request received", "Acknowledgement", "Download PDF", "Sent", "extended"):
        assert text in html, text
    for code in ("clock_started", "deadline_extended", "<code>"):  # labels and sentences, not internal codes
        assert code not in html, code


def test_letter_download_is_audited_and_permission_checked(client, manager, analyst, auditor, run):
    case = new_case(confirm=False)
    run(services.confirm_email, case)
    letter = Letter.objects.get(case=case, kind="acknowledgement", status="issued")
    url = reverse("staff:letter", args=[letter.pk])
    client.force_login(analyst)  # unassigned: the analyst may read the case, not open its files
    assert client.get(url).status_code == 403
    client.force_login(auditor)
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    event = Event.objects.get(case=case, kind="letter_downloaded")
    assert event.actor == auditor and event.data["letter"] == letter.pk and event.data["sha256"] == letter.sha256
    pending = Letter.objects.create(case=case, kind="denial", language="en")
    assert client.get(reverse("staff:letter", args=[pending.pk])).status_code == 404


def test_attachment_download_is_permission_checked(client, manager, analyst):
    from tests.fixtures import make_user

    case = services.submit_request(
        jurisdiction="US-CA", request_types=["access"], requester_name="Ana", requester_email="ana@example.com",
        filer="agent", agent_name="Agent Smith", agent_email="agent@example.com",
        authorisation=services.Upload("signed.pdf", b"%PDF-1.4 signed", "application/pdf"))[0]
    attachment = case.attachments.get()
    url = reverse("staff:attachment", args=[attachment.pk])
    other = make_user("olga", "analyst")
    services.assign(case, manager, other)
    client.force_login(analyst)
    assert client.get(url).status_code == 403
    client.force_login(other)
    response = client.get(url)
    assert response.status_code == 200 and b"".join(response.streaming_content) == b"%PDF-1.4 signed"
    assert "signed.pdf" in response["Content-Disposition"]
    assert Event.objects.filter(case=case, kind="attachment_downloaded", actor=other).exists()


def test_deadline_rows_show_business_days_left(client, manager):
    client.force_login(manager)
    case = new_case("US-CA", "opt_out_sale_sharing", requester_email="o@example.com")
    html = page(client, case)
    assert "15 bd" in html and "15 business days" in html
    assert Deadline.objects.filter(case=case).exists()

