"""Signed links, the requester's status page and what can be done from it."""
import datetime as dt

import pytest
import time_machine
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile

from requests_app import services
from requests_app.models import Appeal, Attachment, Awaiting, Event, Notification, State
from requests_app.tokens import CONFIRM, STATUS, make_token

from .public_helpers import EXE, PNG, fresh_cache, link_from  # noqa: F401 - fresh_cache is autouse

T0 = dt.datetime(2026, 3, 2, 17, 0, tzinfo=dt.timezone.utc)  # Monday


@pytest.fixture
def traveller():
    with time_machine.travel(T0, tick=False) as t:
        yield t


def status_path(case) -> str:
    return f"/status/{make_token(case, STATUS)}/"


def confirm_path(case) -> str:
    return f"/confirm/{make_token(case, CONFIRM)}/"


# --- confirmation link ----------------------------------------------------------------------------

def test_confirmation_is_idempotent_and_audited(client, submit, traveller, django_capture_on_commit_callbacks):
    case = submit("US-CA", "access")
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post(confirm_path(case))
    assert r.status_code == 200 and "your e-mail address is confirmed" in r.content.decode()
    case.refresh_from_db()
    assert case.state == State.VERIFYING and case.email_confirmed_at == T0
    event = Event.objects.get(case=case, kind="confirm_email")
    assert event.actor_label == "requester" and event.from_state == State.SUBMITTED
    sent = len(mail.outbox)
    assert "We have received your privacy request" in mail.outbox[-1].subject  # the acknowledgement
    with django_capture_on_commit_callbacks(execute=True):
        again = client.post(confirm_path(case))
    assert again.status_code == 200
    assert Event.objects.filter(case=case, kind="confirm_email").count() == 1 and len(mail.outbox) == sent


def test_acknowledgement_gives_reference_due_date_and_status_link(client, submit, traveller,
                                                                  django_capture_on_commit_callbacks):
    case = submit("US-CA", "access")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(confirm_path(case))
    ack = mail.outbox[-1]
    assert case.reference in ack.body and "April 16, 2026" in ack.body  # 45 days (Cal. Civ. Code §1798.130)
    assert link_from(ack, "status").startswith("/status/")
    html = ack.alternatives[0][0]
    assert "April 16, 2026" in html and 'href="http://testserver/status/' in html
    assert ack.attachments[0][0].endswith("acknowledgement.pdf")


@pytest.mark.parametrize("purpose_path", ["/confirm/{}/", "/status/{}/"])
def test_tampered_links_get_a_clear_400_page(client, submit, purpose_path):
    case = submit("DE", "access")
    token = make_token(case, STATUS if "status" in purpose_path else CONFIRM)
    r = client.get(purpose_path.format(token[:-3] + "abc"))
    assert r.status_code == 400 and "This link is not valid" in r.content.decode()
    assert client.get(purpose_path.format("nonsense")).status_code == 400


def test_a_confirmation_token_does_not_open_the_status_page(client, submit):
    case = submit("DE", "access")
    assert client.get(f"/status/{make_token(case, CONFIRM)}/").status_code == 400
    assert client.get(f"/confirm/{make_token(case, STATUS)}/").status_code == 400


def test_expired_links_get_a_410_page(client, submit, traveller):
    case = submit("DE", "access")
    confirm, status = confirm_path(case), status_path(case)
    traveller.shift(dt.timedelta(days=15))  # DSAR_CONFIRMATION_DAYS = 14
    r = client.get(confirm)
    assert r.status_code == 410 and "This link has expired" in r.content.decode()
    assert client.get(status).status_code == 200  # status links last ≥ 24 months (11 CCR §7101)
    traveller.shift(dt.timedelta(days=800))
    r = client.get(status)
    assert r.status_code == 410 and "Send me a new link" in r.content.decode()


def test_confirming_a_closed_request_says_so(client, submit, run):
    case = submit("DE", "access")
    run(services.close_not_filed, case, reason="E-mail never confirmed")
    r = client.post(confirm_path(case))
    assert r.status_code == 200 and "This request was closed" in r.content.decode()


# --- the status page ------------------------------------------------------------------------------

def test_status_page_shows_state_timeline_deadlines_and_letters(client, submit, run, traveller):
    case = submit("US-CA", "access")
    run(services.confirm_email, case)
    response = client.get(status_path(case))
    assert "no-store" in response["Cache-Control"] and response["Referrer-Policy"] == "same-origin"
    page = response.content.decode()
    assert case.reference in page and "Verifying identity" in page and "Right to know" in page
    assert "Your request was received." in page and "You confirmed your e-mail address." in page
    assert "We sent you a letter: Acknowledgement of your request." in page
    assert "We must answer your request by" in page and "April 16, 2026" in page
    for raw in ("clock_started", "confirm_email", "letter_issued", "submitted<"):
        assert raw not in page
    letter = case.letters.get()
    assert f"/letters/{letter.pk}/" in page
    assert 'href="/status/' in page and "/withdraw/" in page


def test_status_page_speaks_the_request_language_unless_the_visitor_chose(client, submit, run, traveller):
    case = submit("MX", "access", language="es")
    run(services.confirm_email, case)
    page = client.get(status_path(case)).content.decode()
    assert 'lang="es"' in page and "Solicitud " + case.reference in page and "de marzo de 2026" in page
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    page = client.get(status_path(case)).content.decode()
    assert 'lang="en"' in page and "Request " + case.reference in page


def test_letter_download_streams_the_pdf_and_is_audited(client, submit, run):
    case = submit("DE", "access")
    run(services.confirm_email, case)
    letter = case.letters.get()
    r = client.get(f"{status_path(case)}letters/{letter.pk}/")
    assert r.status_code == 200 and r["Content-Type"] == "application/pdf"
    assert f'filename="{case.reference}-acknowledgement.pdf"' in r["Content-Disposition"]
    body = b"".join(r.streaming_content)
    assert body.startswith(b"%PDF")
    event = Event.objects.get(case=case, kind="letter_downloaded")
    assert event.data["letter"] == letter.pk and event.actor_label == "requester" and not event.public
    other = submit("DE", "access", requester_email="other@example.com")
    assert client.get(f"{status_path(other)}letters/{letter.pk}/").status_code == 404


def test_status_page_costs_the_same_number_of_queries_however_long_the_history(
        client, submit, run, manager, django_assert_max_num_queries):
    case = submit("US-CO", "access")
    run(services.confirm_email, case)
    with django_assert_max_num_queries(7) as short:
        client.get(status_path(case))
    run(services.verify_identity, case, manager, method="account login")
    case.refresh_from_db()
    run(services.extend_deadline, case, manager, reason="Many systems to search")
    case.refresh_from_db()
    run(services.deny, case, manager, reasons="We hold no data about you.")
    with django_assert_max_num_queries(7) as long:
        client.get(status_path(case))
    assert len(long.captured_queries) == len(short.captured_queries)


# --- requester actions ------------------------------------------------------------------------------

def test_uk_identity_request_is_answered_with_an_upload(client, submit, run, manager, traveller):
    case = submit("GB", "access")
    run(services.confirm_email, case)
    case.refresh_from_db()
    run(services.request_information, case, manager, what=Awaiting.IDENTITY, message="Please send a photo ID.")
    page = client.get(status_path(case)).content.decode()
    assert "We asked you for proof of your identity." in page and "Please send a photo ID." in page
    traveller.shift(dt.timedelta(days=3))
    r = client.post(f"{status_path(case)}reply/", {"message": "Here it is",
                                                    "document": SimpleUploadedFile("passport.png", PNG, "image/png")})
    assert r.status_code == 302
    case.refresh_from_db()
    assert case.state == State.VERIFYING and case.awaiting == ""
    att = case.attachments.get()
    assert att.kind == Attachment.Kind.IDENTITY and att.original_name == "document.png"
    # UK GDPR Art. 12A(3): the month restarts on the day the ID arrives.
    assert case.deadlines.get(kind="respond").start_date == dt.date(2026, 3, 5)
    assert "We have received your answer" in client.get(status_path(case)).content.decode()


def test_mexico_information_reply_and_bad_upload(client, submit, run, manager):
    case = submit("MX", "access")
    run(services.confirm_email, case)
    case.refresh_from_db()
    run(services.verify_identity, case, manager, method="account")
    case.refresh_from_db()
    run(services.request_information, case, manager, what=Awaiting.INFORMATION, message="Which account?")
    r = client.post(f"{status_path(case)}reply/", {"message": "",
                                                    "document": SimpleUploadedFile("id.pdf", EXE, "application/pdf")})
    assert r.status_code == 200 and "not a PDF, PNG or JPEG" in r.content.decode()
    case.refresh_from_db()
    assert case.state == State.AWAITING_REQUESTER
    r = client.post(f"{status_path(case)}reply/", {"message": ""})
    assert "Write your answer or attach a document." in r.content.decode()
    assert client.post(f"{status_path(case)}reply/", {"message": "Account MX-1"}).status_code == 302
    case.refresh_from_db()
    assert case.state == State.IN_PROGRESS


def test_reply_when_nothing_was_asked_is_refused_politely(client, submit):
    case = submit("DE", "access")
    r = client.post(f"{status_path(case)}reply/", {"message": "hello"}, follow=True)
    assert r.redirect_chain and "not waiting for an answer from you" in r.content.decode()
    assert not Event.objects.filter(case=case, kind="receive_reply").exists()


def test_withdraw_asks_for_confirmation_then_withdraws(client, submit, run, django_capture_on_commit_callbacks):
    case = submit("DE", "erasure")
    run(services.confirm_email, case)
    page = client.get(f"{status_path(case)}withdraw/").content.decode()
    assert "Withdraw your request?" in page and "Yes, withdraw my request" in page
    case.refresh_from_db()
    assert case.state == State.VERIFYING  # nothing happens on GET
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post(f"{status_path(case)}withdraw/", {"reason": "Sorted it out"})
    assert r.status_code == 302
    case.refresh_from_db()
    assert case.state == State.WITHDRAWN
    assert Event.objects.get(case=case, kind="withdraw").reason == "Sorted it out"
    assert "was withdrawn" in mail.outbox[-1].subject
    page = client.get(status_path(case)).content.decode()
    assert "You withdrew your request." in page and "/withdraw/" not in page
    assert client.get(f"{status_path(case)}withdraw/").status_code == 302


def _denied(submit, run, manager, jurisdiction="US-CO"):
    case = submit(jurisdiction, "access")
    run(services.confirm_email, case)
    case.refresh_from_db()
    run(services.verify_identity, case, manager, method="account login")
    case.refresh_from_db()
    return run(services.deny, case, manager, reasons="We hold no data about you.")


def test_appeal_within_the_window(client, submit, run, manager, traveller, django_capture_on_commit_callbacks):
    case = _denied(submit, run, manager)
    page = client.get(status_path(case)).content.decode()
    assert "Appeal against our decision" in page and "April 16, 2026" in page  # 45 days to appeal
    traveller.shift(dt.timedelta(days=10))
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post(f"{status_path(case)}appeal/", {"statement": "You do hold my order history."})
    assert r.status_code == 302
    appeal = Appeal.objects.get(case=case)
    assert appeal.statement == "You do hold my order history."
    assert "We have received your appeal" in mail.outbox[-1].subject
    page = client.get(status_path(case)).content.decode()
    assert "You appealed against our decision." in page and "We must decide your appeal by" in page
    assert 'action="' + status_path(case) + 'appeal/"' not in page


def test_a_late_appeal_gets_a_clear_error(client, submit, run, manager, traveller):
    case = _denied(submit, run, manager)
    traveller.shift(dt.timedelta(days=46))
    page = client.get(status_path(case)).content.decode()
    assert "The time to appeal ended on April 16, 2026." in page
    r = client.post(f"{status_path(case)}appeal/", {"statement": "Late"})
    assert r.status_code == 200
    assert "The time to appeal has ended: it closed on April 16, 2026." in r.content.decode()
    assert not Appeal.objects.exists()


def test_no_appeal_is_offered_where_the_law_gives_none(client, submit, run, manager):
    case = _denied(submit, run, manager, jurisdiction="US-UT")
    page = client.get(status_path(case)).content.decode()
    assert "Appeal against our decision" not in page
    r = client.post(f"{status_path(case)}appeal/", {"statement": "Please"}, follow=True)
    assert "cannot be appealed" in r.content.decode() and not Appeal.objects.exists()


# --- resend the status link ----------------------------------------------------------------------------

GENERIC = "If requests were made with this e-mail address, we have sent their links to it."


def test_resend_sends_the_link_to_the_address_on_file_only(client, submit, run, django_capture_on_commit_callbacks):
    case = submit("DE", "access", language="pt-br")
    run(services.confirm_email, case)
    before = len(mail.outbox)
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post("/status-link/", {"email": "ANA@example.com", "reference": case.reference.lower()})
    assert r.status_code == 200 and GENERIC in r.content.decode()
    message = mail.outbox[-1]
    assert len(mail.outbox) == before + 1 and message.to == ["ana@example.com"]
    assert "O link para a sua solicitação de privacidade" in message.subject
    assert client.get(link_from(message, "status")).status_code == 200


@pytest.mark.parametrize("email,reference", [("ana@example.com", "DSAR-2026-999999"),
                                             ("mallory@example.com", None)])
def test_resend_answers_the_same_whether_or_not_the_request_exists(client, submit, email, reference):
    case = submit("DE", "access")
    before = len(mail.outbox)
    r = client.post("/status-link/", {"email": email, "reference": reference or case.reference})
    assert r.status_code == 200 and GENERIC in r.content.decode()
    assert len(mail.outbox) == before


def test_resend_for_an_unconfirmed_request_sends_a_fresh_confirmation(client, submit,
                                                                     django_capture_on_commit_callbacks):
    case = submit("DE", "access")
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/status-link/", {"email": "ana@example.com", "reference": case.reference})
    assert link_from(mail.outbox[-1], "confirm")
    assert Notification.objects.filter(case=case, kind="confirm_email").count() == 2


def test_it_sends_every_requests_link_for_an_email_address_alone(client, submit, run,
                                                                 django_capture_on_commit_callbacks):
    first, second = submit("DE", "access"), submit("US-CA", "deletion")
    run(services.confirm_email, first)
    other = submit("DE", "access", requester_email="bob@example.com")
    before = len(mail.outbox)
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post("/status-link/", {"email": "Ana@Example.com"})
    assert r.status_code == 200 and GENERIC in r.content.decode()
    sent = mail.outbox[before:]
    assert sorted(m.subject.split()[-1] for m in sent) == sorted([first.reference, second.reference])
    assert all(m.to == ["ana@example.com"] for m in sent) and other.reference not in str([m.body for m in sent])
    assert link_from(next(m for m in sent if second.reference in m.subject), "confirm")  # not confirmed yet


def test_resend_validation_keeps_input(client):
    page = client.post("/status-link/", {"email": "nope", "reference": "DSAR-1"}).content.decode()
    assert "Enter an e-mail address like name@example.com." in page and 'value="DSAR-1"' in page


def test_opening_the_confirmation_link_confirms_nothing_until_the_button_is_pressed(client, submit, traveller):
    # Mail scanners pre-fetch links: only the POST from the page confirms.
    case = submit("GB", "access")
    page = client.get(confirm_path(case)).content.decode()
    assert "Confirm my request" in page and case.reference in page
    case.refresh_from_db()
    assert case.state == State.SUBMITTED and not Event.objects.filter(case=case, kind="confirm_email").exists()
