"""The triage inbox: turn a message into a case (receipt = its arrival), attach it to a case,
dismiss it with a reason; likely duplicates shown; a constant number of queries."""
import base64
import datetime as dt
import json

import pytest
from django.urls import reverse

from requests_app.intake.models import InboundMessage, InboxState
from requests_app.models import Attachment, DataSubjectRequest, Notification

from .payloads import postmark

T0 = dt.datetime(2026, 11, 30, 10, 0, tzinfo=dt.timezone.utc)
SECRET = "postmark:s3cret-webhook"
INBOX = reverse("intake:inbox")
QUERIES = 8  # session, user, permissions, messages + attachments, open cases by sender


@pytest.fixture(autouse=True)
def webhook_secret(settings, tmp_path):
    settings.ANYMAIL = {"WEBHOOK_SECRET": SECRET}
    settings.MEDIA_ROOT = str(tmp_path)


@pytest.fixture
def deliver(client):
    def _deliver(**over):
        client.post(reverse("intake_public:postmark_inbound"), json.dumps(postmark(**over)),
                    content_type="application/json",
                    HTTP_AUTHORIZATION="Basic " + base64.b64encode(SECRET.encode()).decode())
        return InboundMessage.objects.order_by("-id").first()
    return _deliver


def act(message, action):
    return reverse("intake:message_action", args=[message.public_id, action])


def test_it_turns_a_message_into_a_case_counted_from_its_arrival(client, analyst, now, deliver,
                                                                  django_capture_on_commit_callbacks):
    m = deliver()
    now(T0 + dt.timedelta(days=3))  # triaged three days later
    client.force_login(analyst)
    page = client.get(reverse("intake:message", args=[m.public_id])).content.decode()
    assert 'value="ana@example.com"' in page and "Ana Example" in page  # pre-filled from the message
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(act(m, "convert"), {"jurisdiction": "US-CA", "request_types": ["deletion"],
                                                   "filer": "self", "requester_name": "Ana Example",
                                                   "requester_email": "ana@example.com"})
    assert response.status_code == 302
    case = DataSubjectRequest.objects.get()
    assert case.received_at == m.received_at == dt.datetime(2026, 11, 30, 9, 15, tzinfo=dt.timezone.utc)
    assert (case.channel, case.recorded_by) == ("email", analyst)
    respond = case.deadlines.get(kind="respond")
    assert respond.start_date == dt.date(2026, 11, 30)  # not the day it was triaged
    kept = set(case.attachments.values_list("original_name", flat=True))
    assert kept == {f"message-{m.public_id.hex[:8]}.eml", "id-card.pdf"}
    # A refused type stays inside the original message, and the case says so.
    refused = case.events.get(kind="attachments_refused")
    assert refused.data["refused"][0].startswith("notes.txt: ") and "not a PDF, PNG or JPEG" in refused.reason
    assert set(case.attachments.values_list("kind", flat=True)) == {Attachment.Kind.INFORMATION}
    m.refresh_from_db()
    assert m.state == InboxState.CONVERTED and list(m.cases.all()) == [case] and m.handled_by == analyst
    # A second click changes nothing.
    response = client.post(act(m, "convert"), {"jurisdiction": "US-CA", "request_types": ["deletion"],
                                               "filer": "self", "requester_name": "Ana Example",
                                               "requester_email": "ana@example.com"})
    assert response.status_code == 400 and "already handled" in response.content.decode()
    assert DataSubjectRequest.objects.count() == 1
    assert Notification.objects.filter(kind="acknowledgement", to=["ana@example.com"]).count() == 1


def test_it_refuses_a_conversion_the_law_does_not_give_and_keeps_the_message(client, analyst, now, deliver):
    m = deliver()
    client.force_login(analyst)
    response = client.post(act(m, "convert"), {"jurisdiction": "DE", "request_types": ["opt_out_sale_sharing"],
                                               "filer": "self", "requester_name": "Typed Name 42",
                                               "requester_email": "ana@example.com"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "does not give the right" in html and "Typed Name 42" in html
    m.refresh_from_db()
    assert m.state == InboxState.NEW and not DataSubjectRequest.objects.exists()


def test_it_dismisses_only_with_a_reason(client, analyst, now, deliver):
    m = deliver()
    client.force_login(analyst)
    assert client.post(act(m, "dismiss"), {"reason": ""}).status_code == 400
    m.refresh_from_db()
    assert m.state == InboxState.NEW
    assert client.post(act(m, "dismiss"), {"reason": "spam"}).status_code == 302
    m.refresh_from_db()
    assert (m.state, m.dismiss_reason, m.handled_by) == (InboxState.DISMISSED, "spam", analyst)
    assert "Please delete my data" not in client.get(INBOX).content.decode()


def test_it_attaches_a_message_to_an_existing_case_with_its_arrival(client, manager, now, deliver, submit):
    case = submit("DE", "access")
    m = deliver(Subject="more about my request")
    client.force_login(manager)
    response = client.post(act(m, "attach"), {"reference": case.reference.lower()})
    assert response.status_code == 302
    event = case.events.get(kind="inbound_message_attached")
    assert dt.datetime.fromisoformat(event.data["received_at"]) == m.received_at and event.actor == manager
    assert case.attachments.filter(original_name="id-card.pdf").exists()
    m2 = deliver(MessageID="other")
    response = client.post(act(m2, "attach"), {"reference": "DSAR-1999-000000"})
    assert response.status_code == 400 and "No case has this reference" in response.content.decode()


def test_an_analyst_cannot_file_mail_on_someone_elses_case(client, analyst, manager, now, deliver, submit):
    case = submit("DE", "access")
    DataSubjectRequest.objects.filter(pk=case.pk).update(assignee=manager)
    m = deliver()
    client.force_login(analyst)
    response = client.post(act(m, "attach"), {"reference": case.reference})
    assert response.status_code == 400 and "not yours to work on" in response.content.decode()
    assert not case.events.filter(kind="inbound_message_attached").exists()


def test_it_shows_a_sender_with_an_open_case_as_a_likely_duplicate(client, analyst, now, deliver, submit):
    submit("US-CA", "deletion")
    m = deliver()
    client.force_login(analyst)
    assert "likely duplicate (1 open)" in client.get(INBOX).content.decode()
    assert "Likely duplicate" in client.get(reverse("intake:message", args=[m.public_id])).content.decode()


def test_the_inbox_masks_senders_and_costs_a_constant_number_of_queries(client, analyst, now, deliver,
                                                                         django_assert_max_num_queries):
    for i in range(3):
        deliver(MessageID=f"m{i}", From=f"person{i}@example.com")
    client.force_login(analyst)
    with django_assert_max_num_queries(QUERIES):
        html = client.get(INBOX).content.decode()
    assert "p***@example.com" in html and "person0@example.com" not in html
    for i in range(3, 20):
        deliver(MessageID=f"m{i}", From=f"person{i}@example.com")
    with django_assert_max_num_queries(QUERIES):
        assert client.get(INBOX).content.decode().count("p***@example.com") == 20


def test_a_reply_recorded_days_later_restarts_the_uk_clock_from_its_arrival(client, analyst, now, deliver, submit,
                                                                             run):
    from requests_app import services as core

    now(T0 - dt.timedelta(days=10))
    case = submit("GB", "access")
    run(core.confirm_email, case)
    DataSubjectRequest.objects.filter(pk=case.pk).update(assignee=analyst)
    case.refresh_from_db()
    run(core.request_information, case, analyst, what="identity", message="Send a photo ID.")
    now(T0)
    m = deliver(Subject=f"Re: {case.reference} my ID")  # arrived 09:15 on 30 Nov (its Date header)
    now(T0 + dt.timedelta(days=2))  # filed two days later
    client.force_login(analyst)
    assert client.post(act(m, "reply"), {"reference": case.reference}).status_code == 302
    respond = case.deadlines.get(kind="respond", status="open")
    # UK GDPR Art. 12A(3): the clock restarts on the day the ID arrived, not the day it was filed.
    assert respond.start_date == dt.date(2026, 11, 30)
    reply = case.events.get(kind="receive_reply")
    assert dt.datetime.fromisoformat(reply.data["received_at"]) == m.received_at


def test_opening_and_handling_a_message_is_audited(client, analyst, now, deliver):
    from requests_app.intake.models import InboxEvent

    m = deliver()
    client.force_login(analyst)
    client.get(reverse("intake:message", args=[m.public_id]))
    client.post(act(m, "dismiss"), {"reason": "newsletter"})
    assert list(InboxEvent.objects.values_list("kind", "actor__username", "reason")) == [
        ("opened", "andy", ""), ("dismissed", "andy", "newsletter")]
    with pytest.raises(PermissionError):
        InboxEvent.objects.all().delete()


def test_a_message_older_than_the_request_for_information_is_not_its_reply(client, analyst, now, deliver, submit,
                                                                           run):
    from requests_app import services as core

    case = submit("GB", "access")
    run(core.confirm_email, case)
    DataSubjectRequest.objects.filter(pk=case.pk).update(assignee=analyst)
    case.refresh_from_db()
    m = deliver(Subject=f"Re: {case.reference}")  # arrived 09:15, before we asked at 10:00
    run(core.request_information, case, analyst, what="identity", message="Send a photo ID.")
    client.force_login(analyst)
    response = client.post(act(m, "reply"), {"reference": case.reference})
    assert response.status_code == 400 and "cannot have arrived before" in response.content.decode()
    m.refresh_from_db()
    assert m.state == InboxState.NEW
