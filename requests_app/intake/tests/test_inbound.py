"""Mail to the privacy address reaches the triage inbox through anymail's inbound webhook
(Postmark, HTTP basic auth); forged calls are refused, logged, and store nothing."""
import base64
import datetime as dt
import json
import logging

import pytest
from django.urls import reverse

from requests_app import services as core
from requests_app.intake import services
from requests_app.intake.models import BlockedSender, Flag, InboundMessage, InboxState
from requests_app.models import Attachment, DataSubjectRequest, State

from .payloads import PDF, postmark

T0 = dt.datetime(2026, 11, 30, 10, 0, tzinfo=dt.timezone.utc)
URL = reverse("intake_public:postmark_inbound")
SECRET = "postmark:s3cret-webhook"


@pytest.fixture(autouse=True)
def webhook_secret(settings, tmp_path):
    settings.ANYMAIL = {"WEBHOOK_SECRET": SECRET}
    settings.MEDIA_ROOT = str(tmp_path)


def auth(secret=SECRET):
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(secret.encode()).decode()}


def deliver(client, payload, **headers):
    body = payload if isinstance(payload, (str, bytes)) else json.dumps(payload)
    return client.post(URL, body, content_type="application/json", **headers)


def test_it_stores_a_signed_message_with_its_attachments_and_arrival(client, db, now):
    response = deliver(client, postmark(), **auth())
    assert response.status_code == 200
    m = InboundMessage.objects.get()
    assert (m.from_email, m.subject, m.state) == ("ana@example.com", "Please delete my data", InboxState.NEW)
    assert "deleted. Account 1234" in m.text
    # Postmark sends no timestamp: the Date header (45 minutes ago, plausible) is the arrival.
    assert m.received_at == dt.datetime(2026, 11, 30, 9, 15, tzinfo=dt.timezone.utc)
    names = sorted(a.name for a in m.attachments.all())
    assert names == ["id-card.pdf", "notes.txt"]
    pdf = m.attachments.get(name="id-card.pdf")
    assert pdf.file.read() == PDF and pdf.size == len(PDF)
    assert b"Please delete my data" in m.eml.read()


@pytest.mark.parametrize("headers", [{}, auth("postmark:wrong"), auth("someone:s3cret-webhook")])
def test_it_refuses_and_logs_an_unsigned_or_forged_call_and_stores_nothing(client, db, caplog, headers):
    with caplog.at_level(logging.WARNING):
        response = deliver(client, postmark(), **headers)
    assert response.status_code == 400
    assert not InboundMessage.objects.exists()
    assert any("basic auth" in r.getMessage() for r in caplog.records if r.name.startswith("django.security"))


def test_it_refuses_everything_while_no_webhook_secret_is_configured(client, db, settings, caplog):
    settings.ANYMAIL = {}
    with caplog.at_level(logging.WARNING):
        response = deliver(client, postmark(), **auth())
    assert response.status_code == 400 and not InboundMessage.objects.exists()
    assert any("WEBHOOK_SECRET is not set" in r.getMessage() for r in caplog.records)


def test_it_keeps_an_unparseable_delivery_raw_with_the_error(client, db):
    response = deliver(client, '{"FromFull": {"Email": "x@example.com"', **auth())
    assert response.status_code == 200  # the provider must not retry and finally drop it
    m = InboundMessage.objects.get()
    assert m.raw == '{"FromFull": {"Email": "x@example.com"' and "JSONDecodeError" in m.parse_error
    assert m.flags == [Flag.UNPARSEABLE] and m.state == InboxState.NEW


def test_it_stores_a_retried_delivery_once(client, db, now):
    assert deliver(client, postmark(), **auth()).status_code == 200
    assert deliver(client, postmark(), **auth()).status_code == 200
    assert InboundMessage.objects.count() == 1


def test_it_does_not_trust_a_backdated_or_future_date_header(client, db, now):
    deliver(client, postmark(Date="Mon, 02 Nov 2026 09:15:00 +0000", MessageID="a"), **auth())
    deliver(client, postmark(Date="Tue, 01 Dec 2026 09:15:00 +0000", MessageID="b"), **auth())
    assert set(InboundMessage.objects.values_list("received_at", flat=True)) == {T0}


def test_it_threads_a_reply_by_the_reference_in_the_subject(client, db, now, submit, analyst, run):
    case = submit("DE", "access")
    run(core.confirm_email, case)
    DataSubjectRequest.objects.filter(pk=case.pk).update(assignee=analyst)
    case.refresh_from_db()
    case = run(core.request_information, case, analyst, what="identity", message="Send an ID please.")
    assert case.state == State.AWAITING_REQUESTER
    subject = f"Re: We need more information for your request {case.reference}"
    now(T0 + dt.timedelta(hours=1))
    deliver(client, postmark(Subject=subject, MessageID="r1", Date="Mon, 30 Nov 2026 10:30:00 +0000"), **auth())
    m = InboundMessage.objects.get()
    assert m.thread_case == case
    client.force_login(analyst)
    page = client.get(reverse("intake:message", args=[m.public_id])).content.decode()
    assert "Record the reply" in page
    response = client.post(reverse("intake:message_action", args=[m.public_id, "reply"]),
                           {"reference": case.reference})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.state != State.AWAITING_REQUESTER
    m.refresh_from_db()
    assert m.state == InboxState.ATTACHED and list(m.cases.all()) == [case]
    filed = case.events.get(kind="inbound_message_attached")
    assert dt.datetime.fromisoformat(filed.data["received_at"]) == m.received_at
    # The ID goes on the case once, as the identity document the reply carried.
    assert list(case.attachments.filter(original_name="id-card.pdf").values_list("kind", flat=True)) == ["identity"]


def test_it_threads_by_a_plus_address_too(client, db, now, submit):
    case = submit("DE", "access")
    to = f"privacy+{case.reference}@example.com"
    deliver(client, postmark(Subject="my documents", ToFull=[{"Email": to, "Name": "", "MailboxHash": ""}],
                             OriginalRecipient=to), **auth())
    assert InboundMessage.objects.get().thread_case == case


def test_it_flags_a_mexican_reply_from_another_address_than_the_registered_one(client, db, now, submit):
    case = submit("MX", "access", requester_email="registered@example.com")
    deliver(client, postmark(Subject=f"Re: {case.reference}", MessageID="mx"), **auth())
    m = InboundMessage.objects.get()
    assert Flag.MX_UNREGISTERED in m.flags
    other = submit("MX", "access", requester_email="ana@example.com")
    deliver(client, postmark(Subject=f"Re: {other.reference}", MessageID="mx2"), **auth())
    assert Flag.MX_UNREGISTERED not in InboundMessage.objects.get(event_id="mx2").flags


def test_it_flags_a_mexican_request_converted_from_another_address(client, db, now, analyst):
    deliver(client, postmark(), **auth())
    m = InboundMessage.objects.get()
    client.force_login(analyst)
    response = client.post(reverse("intake:message_action", args=[m.public_id, "convert"]), {
        "jurisdiction": "MX", "request_types": ["cancellation"], "filer": "self", "requester_name": "Ana Example",
        "requester_email": "registered@example.com", "data_description": "My account data"})
    assert response.status_code == 302
    case = DataSubjectRequest.objects.get()
    flag = case.events.get(kind="flagged_unverifiable_email")
    assert "section M" in flag.data["source"]
    m.refresh_from_db()
    assert Flag.MX_UNREGISTERED in m.flags
    page = client.get(reverse("intake:message", args=[m.public_id])).content.decode()
    assert "cannot be verified by e-mail" in page


def test_it_keeps_a_blocked_senders_mail_out_of_the_inbox_and_answers_the_same(client, db, now, manager):
    services.block_sender(manager, "example.com", "abusive volume")
    response = deliver(client, postmark(), **auth())
    assert response.status_code == 200 and response.content == b""
    m = InboundMessage.objects.get()
    assert m.state == InboxState.BLOCKED
    client.force_login(manager)
    assert "Please delete my data" not in client.get(reverse("intake:inbox")).content.decode()
    # Lifting the block brings the message back to triage.
    services.lift_block(manager, BlockedSender.objects.get(), "sorted out")
    assert "Please delete my data" in client.get(reverse("intake:inbox")).content.decode()


def test_other_providers_reach_the_same_inbox_through_anymails_signal(db, now):
    from anymail.inbound import AnymailInboundMessage
    from anymail.signals import AnymailInboundEvent, inbound

    message = AnymailInboundMessage.construct(from_email="Bo <bo@example.org>", to="privacy@example.com",
                                              subject="GDPR access", text="Send me my data")
    inbound.send(sender=object, event=AnymailInboundEvent(event_type="inbound", message=message,
                                                          timestamp=T0 - dt.timedelta(minutes=3), event_id="mg-1"),
                 esp_name="Mailgun")
    m = InboundMessage.objects.get()
    assert (m.esp, m.from_email, m.received_at) == ("Mailgun", "bo@example.org", T0 - dt.timedelta(minutes=3))
