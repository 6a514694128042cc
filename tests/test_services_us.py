"""US regimes through the services: ccpa, cpa, ctdpa, vcdpa, ucpa, nrs603a and the voluntary regime.
Happy paths, refusals, extensions and withdrawal, with the audit events each step writes."""
import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError

from requests_app import services
from requests_app.models import DeadlineStatus, Letter, Notification, State
from requests_app.services import ServiceError

LA = ZoneInfo("America/Los_Angeles")
T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=LA)  # Monday
KNOW = {"categories": ["Identifiers"], "sources": ["You"], "purposes": ["Orders"], "recipients": ["Couriers"]}

ZONES = {"US-CA": "America/Los_Angeles", "US-CO": "America/Denver", "US-CT": "America/New_York",
         "US-VA": "America/New_York", "US-UT": "America/Denver", "US-NV": "America/Los_Angeles",
         "US-TX": "America/Chicago"}


def at(jurisdiction, *args):
    return dt.datetime(*args, tzinfo=ZoneInfo(ZONES[jurisdiction]))


def clock(case, kind, **filters):
    return case.deadlines.filter(kind=kind, **filters).order_by("-id").first()


def transitions(case):
    return [(e.kind, e.from_state, e.to_state, e.actor_label)
            for e in case.events.exclude(to_state="").exclude(kind="submitted")]


def events_since(case, first_id):
    return list(case.events.filter(id__gt=first_id).values_list("kind", flat=True))


def last_event_id(case):
    return case.events.order_by("-id").values_list("id", flat=True).first()



def open_case(submit, jurisdiction="US-CA", request_type="access", manager=None, **kw):
    case = submit(jurisdiction, request_type, **kw)
    case = services.confirm_email(case)
    if case.state == State.VERIFYING:
        case = services.verify_identity(case, manager, method="Signed in to the account")
    return case


# --- ccpa -------------------------------------------------------------------------------------------

def test_ccpa_know_request_happy_path(submit, run, manager, now):
    case = submit("US-CA", "access")
    assert case.state == State.SUBMITTED and case.version == 1
    case = run(services.confirm_email, case)
    assert case.state == State.VERIFYING and case.email_confirmed_at == T0
    # the acknowledgement letter confirms receipt (11 CCR §7021(a)): the 10-business-day clock is met
    assert clock(case, "acknowledge").status == DeadlineStatus.MET
    assert case.letters.get(kind="acknowledgement").status == "issued"
    assert services.confirm_email(case).state == State.VERIFYING  # a second click changes nothing

    now(dt.datetime(2026, 3, 4, 11, 0, tzinfo=LA))
    case = services.verify_identity(case, manager, method="Matched order number and e-mail")
    assert case.state == State.IN_PROGRESS and case.verified_at is not None

    mark = last_event_id(case)
    deadline = run(services.extend_deadline, case, manager, reason="Several data stores to search")
    assert (deadline.extended, deadline.due_date, deadline.extension_reason) == (
        True, dt.date(2026, 5, 31), "Several data stores to search")
    assert deadline.due_at == dt.datetime(2026, 6, 1, 6, 59, 59, 999999, tzinfo=dt.timezone.utc)
    ext = case.events.get(kind="deadline_extended")
    assert ext.data["from"] == "2026-04-16" and ext.data["to"] == "2026-05-31" and ext.actor == manager
    assert ext.reason == "Several data stores to search" and ext.public
    assert events_since(case, mark)[:1] == ["deadline_extended"]
    assert case.letters.get(kind="extension_notice").context["new_due"] == "2026-05-31"

    now(dt.datetime(2026, 4, 20, 15, 0, tzinfo=LA))
    case = run(services.fulfil, case, manager, decision=KNOW)
    assert case.state == State.FULFILLED and case.closed_at == case.decision_sent_at
    assert clock(case, "respond").status == DeadlineStatus.MET
    assert not case.deadlines.filter(status=DeadlineStatus.OPEN).exists()
    assert case.next_due_at is None
    assert not clock(case, "appeal_window")  # no appeals under the CCPA
    assert transitions(case) == [
        ("confirm_email", "submitted", "verifying", "requester"),
        ("verify", "verifying", "in_progress", manager.username),
        ("fulfil", "in_progress", "fulfilled", manager.username),
    ]
    closed = {e.data["clock"]: e.data for e in case.events.filter(kind="clock_closed")}
    assert closed["respond"]["status"] == "met" and closed["respond"]["late"] is False
    assert {m.to[0] for m in mail.outbox} == {"ana@example.com"}
    assert Notification.objects.filter(case=case, status="sent").count() == len(mail.outbox)


def test_ccpa_know_response_must_list_categories_sources_purposes_recipients(submit, manager, now):
    case = open_case(submit, manager=manager)
    with pytest.raises(ValidationError) as exc:
        services.fulfil(case, manager, decision={"categories": ["Identifiers"]})
    assert set(exc.value.message_dict) == {"sources", "purposes", "recipients"}
    case.refresh_from_db()
    assert case.state == State.IN_PROGRESS


@pytest.mark.parametrize("request_type", ["opt_out_sale_sharing", "limit_sensitive"])
def test_ccpa_opt_out_needs_no_verification_and_cannot_be_extended(submit, manager, now, request_type):
    case = submit("US-CA", request_type)
    assert clock(case, "acknowledge") is None
    # Acted on at once, without e-mail confirmation or identity verification (11 CCR §7026(d)).
    assert case.state == State.IN_PROGRESS and case.verified_at is None
    assert "no identity verification" in case.events.get(kind="accept_opt_out").reason
    with pytest.raises(ServiceError, match=r"cannot be extended \(11 CCR §7026\(f\), §7027\(g\)\)"):
        services.extend_deadline(case, manager, reason="Busy")
    assert clock(case, "respond").due_date == dt.date(2026, 3, 23) and not clock(case, "respond").extended
    assert not case.events.filter(kind="deadline_extended").exists()
    case = services.fulfil(case, manager)
    assert case.state == State.FULFILLED


def test_extension_refusals(submit, manager, analyst, auditor, now):
    case = open_case(submit, manager=manager)
    with pytest.raises(ServiceError, match="needs a written reason"):
        services.extend_deadline(case, manager, reason="  ")
    with pytest.raises(PermissionDenied):
        services.extend_deadline(case, auditor, reason="Volume")
    with pytest.raises(PermissionDenied):  # analysts extend only the cases they work
        services.extend_deadline(case, analyst, reason="Volume")
    # after the original deadline (end of 16 April, California time) it is too late
    now(dt.datetime(2026, 4, 17, 0, 0, 1, tzinfo=LA))
    with pytest.raises(ServiceError, match="expired on 2026-04-16; an extension must be notified before"):
        services.extend_deadline(case, manager, reason="Volume")
    assert not clock(case, "respond").extended
    assert not case.events.filter(kind="deadline_extended").exists()


def test_extension_on_the_last_minute_and_only_once(submit, manager, analyst, now):
    case = open_case(submit, manager=manager)
    services.assign(case, manager, analyst)
    now(dt.datetime(2026, 4, 16, 23, 59, 59, tzinfo=LA))
    services.extend_deadline(case, analyst, reason="Archive restore needed")
    with pytest.raises(ServiceError, match="already extended on 2026-04-16; the law allows one extension"):
        services.extend_deadline(case, manager, reason="Even more data")
    assert clock(case, "respond").due_date == dt.date(2026, 5, 31)
    assert case.events.filter(kind="deadline_extended").count() == 1


def test_decisions_that_refuse_must_give_reasons(submit, manager, now):
    case = open_case(submit, "US-CA", "deletion", manager=manager)
    for fn in (services.deny, services.partially_fulfil):
        with pytest.raises(ServiceError, match="must state its reasons"):
            fn(case, manager, reasons=" ")
    case = services.partially_fulfil(case, manager, reasons="Order records kept for tax law (§1798.105(d)(8))")
    assert case.state == State.PARTIALLY_FULFILLED and "tax law" in case.decision_reasons
    assert case.events.get(kind="partially_fulfil").reason.startswith("Order records")


# --- cpa, ctdpa, vcdpa, ucpa ------------------------------------------------------------------------

@pytest.mark.parametrize("jurisdiction,appeals", [("US-CO", True), ("US-CT", True), ("US-VA", True),
                                                  ("US-UT", False)])
def test_colorado_style_regimes_45_plus_45_then_refusal(submit, manager, now, jurisdiction, appeals):
    now(at(jurisdiction, 2026, 3, 2, 9))
    case = open_case(submit, jurisdiction, "deletion", manager=manager, received_at=at(jurisdiction, 2026, 3, 2, 9))
    assert clock(case, "respond").due_date == dt.date(2026, 4, 16)
    now(at(jurisdiction, 2026, 4, 10, 9))
    services.extend_deadline(case, manager, reason="Data held by a processor")
    assert clock(case, "respond").due_date == dt.date(2026, 5, 31)
    now(at(jurisdiction, 2026, 5, 20, 9))
    case = services.deny(case, manager, reasons="We could not verify that the account is yours")
    assert case.state == State.DENIED
    window = clock(case, "appeal_window")
    if appeals:  # the appeal window runs 45 days from the day the decision was sent
        assert (window.start_date, window.due_date, window.is_obligation) == (
            dt.date(2026, 5, 20), dt.date(2026, 7, 4), False)
        assert case.letters.get(kind="denial").context["appeal_window_due"] == "2026-07-04"
    else:
        assert window is None
    assert [t[0] for t in transitions(case)] == ["confirm_email", "verify", "deny"]


def test_a_late_decision_is_recorded_as_late(submit, manager, now):
    case = open_case(submit, "US-CO", "access", manager=manager, received_at=at("US-CO", 2026, 3, 2, 9))
    now(at("US-CO", 2026, 4, 17, 9))
    services.fulfil(case, manager)
    closed = case.events.filter(kind="clock_closed", data__clock="respond").get()
    assert closed.data == {"clock": "respond", "status": "met", "due": "2026-04-16", "late": True}


# --- nrs603a ----------------------------------------------------------------------------------------

def test_nevada_clock_starts_when_the_request_is_verified(submit, manager, now):
    # NRS 603A.345(4): 60 days from the *verified* request; an opt-out needs no verification
    # (spec section 5), so it is as verified as it will be on receipt.
    now(dt.datetime(2026, 3, 5, 10, 0, tzinfo=LA))
    case = submit("US-NV", "opt_out_sale")
    assert case.state == State.IN_PROGRESS
    respond = clock(case, "respond")
    assert (respond.start_date, respond.due_date, respond.extended_due_date) == (
        dt.date(2026, 3, 5), dt.date(2026, 5, 4), dt.date(2026, 6, 3))
    assert case.events.filter(kind="clock_started", data__clock="respond").exists()
    services.extend_deadline(case, manager, reason="Third-party data brokers to notify")
    assert clock(case, "respond").due_date == dt.date(2026, 6, 3)
    case = services.deny(case, manager, reasons="You have not bought goods or services from us")
    assert case.state == State.DENIED and clock(case, "appeal_window") is None


# --- voluntary -------------------------------------------------------------------------------------

def test_voluntary_regime_30_plus_30(submit, manager, now):
    case = open_case(submit, "US-TX", "access", manager=manager, received_at=at("US-TX", 2026, 3, 2, 9))
    assert clock(case, "respond").due_date == dt.date(2026, 4, 1)
    services.extend_deadline(case, manager, reason="Company policy allows 30 more days")
    assert clock(case, "respond").due_date == dt.date(2026, 5, 1)
    case = services.fulfil(case, manager)
    assert case.state == State.FULFILLED


# --- withdrawal ------------------------------------------------------------------------------------

def test_withdraw_cancels_every_clock(submit, now):
    case = submit("US-CA", "access")
    case = services.confirm_email(case)
    case = services.withdraw(case)
    assert case.state == State.WITHDRAWN and case.closed_at is not None and case.next_due_at is None
    assert not case.deadlines.filter(status=DeadlineStatus.OPEN).exists()
    assert clock(case, "respond").status == DeadlineStatus.CANCELLED
    event = case.events.get(kind="withdraw")
    assert (event.from_state, event.to_state, event.actor_label) == ("verifying", "withdrawn", "requester")
    assert Notification.objects.filter(case=case, kind="withdrawn").count() == 1
    with pytest.raises(ServiceError, match="cannot withdraw while it is 'Withdrawn'"):
        services.withdraw(case)


def test_staff_record_a_withdrawal_only_on_cases_they_work(submit, manager, analyst, now):
    case = open_case(submit, manager=manager)
    with pytest.raises(PermissionDenied):
        services.withdraw(case, analyst, reason="Asked by phone")
    case = services.withdraw(case, manager, reason="Asked by phone")
    assert case.events.get(kind="withdraw").actor == manager


def test_a_closed_case_cannot_be_decided_again(submit, manager, now):
    case = open_case(submit, "US-CA", "deletion", manager=manager)
    services.fulfil(case, manager)
    with pytest.raises(ServiceError, match="cannot deny while it is 'Fulfilled'"):
        services.deny(case, manager, reasons="Changed our mind")
    with pytest.raises(ServiceError, match="no running respond clock"):
        services.extend_deadline(case, manager, reason="Late")
    assert Letter.objects.filter(case=case, kind="denial").count() == 0
