"""Opt-outs and Global Privacy Control (spec section 5; 11 CCR §7025, §7026(d)): no e-mail
confirmation, no identity verification, never closed as "not filed"; a GPC signal is an opt-out
in itself, recorded in one click without a name or an e-mail; its status never says "verified"."""
import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.urls import reverse

from requests_app import services, sweep
from requests_app.models import DataSubjectRequest, Event, State
from requests_app.tokens import STATUS, make_token
from tests.public_helpers import fresh_cache, location_data  # noqa: F401 (autouse fixture)

LA = ZoneInfo("America/Los_Angeles")
GPC = {"HTTP_SEC_GPC": "1"}
OPT_OUTS = [("US-CA", "opt_out_sale_sharing"), ("US-CA", "limit_sensitive"), ("US-CO", "opt_out"),
            ("US-VA", "opt_out"), ("US-NV", "opt_out_sale"), ("JP", "opt_out")]


@pytest.mark.parametrize("jurisdiction, request_type", OPT_OUTS)
def test_it_acts_on_an_opt_out_without_asking_to_confirm_the_e_mail(submit, now, jurisdiction, request_type):
    now(dt.datetime(2026, 3, 2, 10, tzinfo=LA))
    case = submit(jurisdiction, request_type)
    assert case.state == State.IN_PROGRESS
    assert not case.deadlines.filter(kind="confirm_email").exists()
    assert case.deadlines.filter(kind="respond", status="open").exists()
    assert [m.subject for m in mail.outbox if "confirm" in m.body.lower() and "/confirm/" in m.body] == []
    assert any("/status/" in m.body for m in mail.outbox)  # the acknowledgement with the status link


def test_it_starts_the_nevada_clock_at_receipt_since_an_opt_out_needs_no_verification(submit, now):
    now(dt.datetime(2026, 3, 2, 10, tzinfo=LA))
    case = submit("US-NV", "opt_out_sale")
    assert case.deadlines.get(kind="respond").due_date == dt.date(2026, 5, 1)


def test_it_never_closes_an_opt_out_as_not_filed(submit, now, manager):
    now(dt.datetime(2026, 3, 2, 10, tzinfo=LA))
    case = submit("US-CA", "opt_out_sale_sharing")
    now(dt.datetime(2026, 4, 2, 10, tzinfo=LA))
    sweep.run_sweep()
    case.refresh_from_db()
    assert case.state == State.IN_PROGRESS
    with pytest.raises(services.ServiceError, match="opt-out"):
        services.close_not_filed(case, reason="Never confirmed", user=manager)
    case.refresh_from_db()
    assert case.state == State.IN_PROGRESS


def test_it_confirms_only_the_other_requests_of_a_batch_that_includes_an_opt_out(db, now,
                                                                                  django_capture_on_commit_callbacks):
    now(dt.datetime(2026, 3, 2, 10, tzinfo=LA))
    with django_capture_on_commit_callbacks(execute=True):
        access, opt_out = services.submit_request(jurisdiction="US-CA", request_types=["access", "opt_out_sale_sharing"],
                                                  requester_name="Ana", requester_email="ana@example.com")
    assert (access.state, opt_out.state) == (State.SUBMITTED, State.IN_PROGRESS)
    confirm = [m for m in mail.outbox if "/confirm/" in m.body]
    assert len(confirm) == 1 and access.reference in confirm[0].body and opt_out.reference not in confirm[0].body


def test_it_records_a_gpc_opt_out_in_one_click_without_a_name_or_an_e_mail(db, client, django_capture_on_commit_callbacks):
    client.post("/", {**location_data("US-CA"), "gpc_opt_out": "1"}, **GPC)
    page = client.get("/opt-out/", **GPC).content.decode()
    assert 'name="requester_name"' not in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/opt-out/", {}, **GPC)
    assert response.status_code == 302
    case = DataSubjectRequest.objects.get()
    assert (case.request_type, case.via_gpc, case.state) == ("opt_out_sale_sharing", True, State.IN_PROGRESS)
    assert case.requester_email == "" and mail.outbox == []
    page = client.get(response.url).content.decode()
    assert case.reference in page and "check your e-mail" not in page


def test_it_applies_a_gpc_opt_out_to_the_account_of_an_e_mail_given(db, client, django_capture_on_commit_callbacks):
    client.post("/", {**location_data("US-CO"), "gpc_opt_out": "1"}, **GPC)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/opt-out/", {"requester_email": "gus@example.com"}, **GPC)
    case = DataSubjectRequest.objects.get()
    assert case.requester_email == "gus@example.com" and case.state == State.IN_PROGRESS
    assert [m.to for m in mail.outbox] == [["gus@example.com"]] and "/confirm/" not in mail.outbox[0].body


def test_it_never_tells_an_opt_out_that_its_identity_was_verified(client, submit, now):
    now(dt.datetime(2026, 3, 2, 10, tzinfo=LA))
    case = services.confirm_email(submit("US-CA", "opt_out_sale_sharing", via_gpc=True))  # a click changes nothing
    page = client.get(reverse("public:status", args=[make_token(case, STATUS)])).content.decode()
    assert "identity was verified" not in page
    assert not Event.objects.filter(case=case, kind="identity_verified", public=True).exists()


# --- the CCPA acknowledgement (11 CCR §7021(a)) ----------------------------------------------------

@pytest.mark.parametrize("request_type", ["access", "deletion", "correction"])
def test_it_meets_the_ccpa_acknowledge_clock_only_with_an_e_mail_that_explains_verification_and_the_date(
        submit, now, request_type):
    now(dt.datetime(2026, 3, 2, 10, tzinfo=LA))
    case = submit("US-CA", request_type)
    ack = case.deadlines.get(kind="acknowledge")
    assert ack.status == "met"
    email = case.notifications.get(kind="confirm_email")
    for body in (email.body_text, email.body_html):
        assert "verify your identity" in body  # the verification process in general terms
        assert "April 16, 2026" in body  # when to expect a response


def test_it_accepts_an_opt_out_left_waiting_for_confirmation_by_an_earlier_version(submit, now, run):
    """Opt-outs filed before they were accepted at receipt waited for a confirmation click; the
    daily task accepts them (11 CCR §7026(d)), their clocks counting from their receipt."""
    from requests_app import tasks
    from requests_app.models import Deadline

    now(dt.datetime(2026, 3, 2, 10, tzinfo=LA))
    case = submit("US-CA", "access")
    # What the earlier version stored for an opt-out: submitted, a confirmation window, its clocks.
    DataSubjectRequest.objects.filter(pk=case.pk).update(request_type="opt_out_sale_sharing")
    Deadline.objects.filter(case=case).delete()
    case.refresh_from_db()
    rules = [r for r in case.regime_info.clocks_for(case.request_type) if r.starts == "received"]
    services.start_clocks(case, [(r, dt.date(2026, 3, 2)) for r in rules] + [(services._confirm_rule(), dt.date(2026, 3, 2))])
    mail.outbox.clear()

    now(dt.datetime(2026, 3, 5, 9, tzinfo=LA))
    assert run(tasks.accept_waiting_opt_outs.delay).get() == 1
    case.refresh_from_db()
    assert case.state == State.IN_PROGRESS
    assert case.deadlines.get(kind="confirm_email").status == "cancelled"
    # 11 CCR §7026(f): 15 business days from receipt (2 March), not from the sweep (5 March).
    assert case.deadlines.get(kind="respond", status="open").start_date == dt.date(2026, 3, 2)
    assert case.events.filter(kind="opt_out_accepted_without_confirmation").count() == 1
    acknowledgements = [m for m in mail.outbox if "/status/" in m.body]
    assert len(acknowledgements) == 1

    assert run(tasks.accept_waiting_opt_outs.delay).get() == 0  # idempotent: nothing more happens
    run(sweep.run_sweep)
    assert case.events.filter(kind="opt_out_accepted_without_confirmation").count() == 1
    assert len([m for m in mail.outbox if "/status/" in m.body]) == 1


def test_it_accepts_a_waiting_opt_out_when_its_confirmation_window_ends(submit, now, run):
    """The sweep never closes such an opt-out as not filed: its window's end accepts it."""
    from requests_app.models import Deadline

    now(dt.datetime(2026, 3, 2, 10, tzinfo=LA))
    case = submit("US-CA", "access")
    DataSubjectRequest.objects.filter(pk=case.pk).update(request_type="opt_out_sale_sharing")
    Deadline.objects.filter(case=case).delete()
    case.refresh_from_db()
    services.start_clocks(case, [(services._confirm_rule(), dt.date(2026, 3, 2))])
    now(dt.datetime(2026, 3, 20, 9, tzinfo=LA))  # the 14-day window has ended
    run(sweep.run_sweep)
    case.refresh_from_db()
    assert case.state == State.IN_PROGRESS
    assert not case.events.filter(kind="close_not_filed").exists()
    assert case.events.filter(kind="opt_out_accepted_without_confirmation").count() == 1
