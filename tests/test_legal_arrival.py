"""Arrival times (spec section 3, "when something arrived"): a reply, an ID document, an appeal or
a Mexican request made complete counts from the moment it arrived, not from when staff typed it in;
staff enter that moment in the requester's zone, never in the future, never before the request."""
import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from requests_app import services
from requests_app.models import Appeal, Awaiting, Event, State
from requests_app.services import AppealWindowClosed, ServiceError

LONDON, DENVER, MEXICO = ZoneInfo("Europe/London"), ZoneInfo("America/Denver"), ZoneInfo("America/Mexico_City")
ID_SCAN = services.Upload("passport.png", b"\x89PNG\r\n\x1a\n" + b"0" * 64, "image/png")


def clock(case, kind="respond", appeal=None):
    qs = case.deadlines.filter(kind=kind)
    qs = qs.filter(appeal=appeal) if appeal else qs.filter(appeal__isnull=True)
    return qs.order_by("-id").first()


def uk_case_awaiting_id(submit, manager, now):
    now(dt.datetime(2026, 3, 2, 10, tzinfo=LONDON))  # Monday
    case = services.confirm_email(submit("GB", "access"))
    services.request_information(case, manager, what=Awaiting.IDENTITY, message="Please send a photo ID")
    return case


def test_it_restarts_the_uk_clock_from_the_day_the_id_arrived_not_the_day_it_was_logged(submit, manager, now):
    case = uk_case_awaiting_id(submit, manager, now)
    now(dt.datetime(2026, 3, 19, 15, tzinfo=LONDON))  # logged on Thursday 19 March
    services.receive_reply(case, message="Passport copy (post)", upload=ID_SCAN, user=manager,
                           received_at=dt.datetime(2026, 3, 16, 9, tzinfo=LONDON))  # arrived Monday 16 March
    respond = clock(case)
    assert (respond.start_date, respond.due_date) == (dt.date(2026, 3, 16), dt.date(2026, 4, 16))
    event = Event.objects.get(case=case, kind="receive_reply")
    assert event.actor == manager
    assert event.data["received_at"] == "2026-03-16T09:00:00+00:00"
    assert event.data["recorded_by"] == manager.username
    assert event.data["recorded_at"].startswith("2026-03-19T15:00")
    assert Event.objects.get(case=case, kind="attachment_added").data["received_at"].startswith("2026-03-16")


def test_it_counts_a_uk_clarification_pause_until_the_answer_arrived(submit, manager, now):
    now(dt.datetime(2026, 3, 2, 10, tzinfo=LONDON))
    case = services.verify_identity(services.confirm_email(submit("GB", "access")), manager, method="login")
    services.request_information(case, manager, what=Awaiting.CLARIFICATION, message="Which account?")
    now(dt.datetime(2026, 3, 20, 10, tzinfo=LONDON))
    services.receive_reply(case, message="The shop account", user=manager,
                           received_at=dt.datetime(2026, 3, 6, 10, tzinfo=LONDON))
    assert clock(case).paused_days == 4 and clock(case).due_date == dt.date(2026, 4, 7)  # 6 April is Easter Monday


@pytest.mark.parametrize("moment, message", [
    (dt.datetime(2026, 3, 20, 10, tzinfo=LONDON), "future"),
    (dt.datetime(2026, 3, 1, 10, tzinfo=LONDON), "before"),
])
def test_it_refuses_an_arrival_in_the_future_or_before_the_request(submit, manager, now, moment, message):
    case = uk_case_awaiting_id(submit, manager, now)
    now(dt.datetime(2026, 3, 19, 15, tzinfo=LONDON))
    with pytest.raises(ServiceError, match=message):
        services.receive_reply(case, message="ID", upload=ID_SCAN, user=manager, received_at=moment)
    case.refresh_from_db()
    assert case.state == State.AWAITING_REQUESTER


def test_it_takes_a_mexican_reply_that_arrived_in_time_and_counts_the_determination_from_its_arrival(
        submit, manager, now):
    now(dt.datetime(2026, 9, 1, 10, tzinfo=MEXICO))
    case = services.confirm_email(submit("MX", "access"))
    services.request_information(case, manager, what=Awaiting.INFORMATION, message="Your account number?")
    reply_due = clock(case, "requester_reply").due_date
    assert reply_due == dt.date(2026, 9, 15)  # 10 business days
    now(dt.datetime(2026, 9, 21, 10, tzinfo=MEXICO))  # logged after the window ended
    services.receive_reply(case, message="Account 42", user=manager,
                           received_at=dt.datetime(2026, 9, 14, 12, tzinfo=MEXICO))
    case.refresh_from_db()
    assert case.state != State.NOT_FILED
    determination = clock(case, "determination")
    assert determination.start_date == dt.date(2026, 9, 14)


def colorado_denial(manager, now):
    now(dt.datetime(2026, 3, 2, 10, tzinfo=DENVER))
    case = services.submit_request(jurisdiction="US-CO", request_types=["access"], requester_name="Ana",
                                   requester_email="ana@example.com")[0]
    services.confirm_email(case)
    services.verify_identity(case, manager, method="account login")
    return services.deny(case, manager, reasons="We hold no data about you.")


def test_it_takes_a_posted_appeal_that_arrived_inside_the_window_and_dates_its_clock_from_arrival(manager, now):
    case = colorado_denial(manager, now)
    assert clock(case, "appeal_window").due_date == dt.date(2026, 4, 16)
    now(dt.datetime(2026, 4, 20, 10, tzinfo=DENVER))  # typed in after the window closed
    appeal = services.file_appeal(case, statement="You do hold my data", user=manager,
                                  received_at=dt.datetime(2026, 4, 15, 11, tzinfo=DENVER))
    assert appeal.received_at == dt.datetime(2026, 4, 15, 11, tzinfo=DENVER)
    assert clock(case, "appeal_respond", appeal).start_date == dt.date(2026, 4, 15)
    assert clock(case, "appeal_respond", appeal).due_date == dt.date(2026, 5, 30)
    assert not Event.objects.filter(case=case, kind="late_appeal_accepted").exists()


def test_it_still_refuses_an_appeal_that_arrived_after_the_window(manager, now):
    case = colorado_denial(manager, now)
    now(dt.datetime(2026, 4, 20, 10, tzinfo=DENVER))
    with pytest.raises(AppealWindowClosed):
        services.file_appeal(case, statement="Late", user=manager,
                             received_at=dt.datetime(2026, 4, 17, 9, tzinfo=DENVER))
    assert not Appeal.objects.exists()


# --- the staff forms ------------------------------------------------------------------------------

def test_it_lets_staff_enter_the_arrival_in_the_requesters_zone(client, submit, manager, now):
    case = uk_case_awaiting_id(submit, manager, now)
    case.refresh_from_db()
    now(dt.datetime(2026, 3, 19, 15, tzinfo=LONDON))
    client.force_login(manager)
    page = client.get(reverse("staff:case", args=[case.pk])).content.decode()
    assert 'type="datetime-local"' in page and "Europe/London" in page
    response = client.post(reverse("staff:case_action", args=[case.pk, "receive_reply"]), {
        "version": case.version, "message": "Passport copy by post", "received_at": "2026-03-16T09:30"})
    assert response.status_code == 302
    assert clock(case).start_date == dt.date(2026, 3, 16)
    event = Event.objects.get(case=case, kind="receive_reply")
    assert event.data["received_at"] == "2026-03-16T09:30:00+00:00" and event.data["recorded_by"] == "mia"


@pytest.mark.parametrize("typed, error", [("2026-03-20T09:00", "future"), ("2026-03-01T09:00", "before")])
def test_it_refuses_in_the_staff_form_an_arrival_in_the_future_or_before_the_request(
        client, submit, manager, now, typed, error):
    case = uk_case_awaiting_id(submit, manager, now)
    case.refresh_from_db()
    now(dt.datetime(2026, 3, 19, 15, tzinfo=LONDON))
    client.force_login(manager)
    response = client.post(reverse("staff:case_action", args=[case.pk, "receive_reply"]), {
        "version": case.version, "message": "Passport", "received_at": typed})
    assert response.status_code == 400 and error in response.content.decode()
    case.refresh_from_db()
    assert case.state == State.AWAITING_REQUESTER


def test_it_reads_the_staff_arrival_time_in_the_requesters_zone_not_utc(client, manager, now):
    case = colorado_denial(manager, now)
    now(dt.datetime(2026, 4, 20, 10, tzinfo=DENVER))
    client.force_login(manager)
    # 16 April 22:30 in Denver is 17 April in UTC: still inside the window that ends on 16 April.
    response = client.post(reverse("staff:case_action", args=[case.pk, "record_appeal"]), {
        "version": case.version, "statement": "Letter", "received_at": "2026-04-16T22:30"})
    assert response.status_code == 302
    appeal = case.appeals.get()
    assert appeal.received_at == dt.datetime(2026, 4, 16, 22, 30, tzinfo=DENVER)
