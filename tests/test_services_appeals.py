"""Appeals (cpa, ctdpa, vcdpa only): window, late appeals, the appeal clock and its extension, decisions."""
import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied

from requests_app import services
from requests_app.models import AppealState, DeadlineStatus, Notification, State
from requests_app.services import AppealWindowClosed, Conflict, ServiceError
from tests.fixtures import make_user

ZONES = {"US-CA": "America/Los_Angeles", "US-CO": "America/Denver", "US-CT": "America/New_York",
         "US-VA": "America/New_York", "US-UT": "America/Denver", "US-NV": "America/Los_Angeles"}


def at(jurisdiction, *args):
    return dt.datetime(*args, tzinfo=ZoneInfo(ZONES[jurisdiction]))


def clock(case, kind, **filters):
    return case.deadlines.filter(kind=kind, **filters).order_by("-id").first()


@pytest.fixture
def denied(submit, time_machine):
    """A case received on 2 March 2026 and denied on `decided` (local time) by a manager who, having
    decided it, may not decide its appeal: the `manager` fixture decides the appeals."""
    manager = make_user("dan", "manager")

    def _denied(jurisdiction, decided, request_type=None):
        request_type = request_type or ("opt_out_sale" if jurisdiction == "US-NV" else "deletion")
        time_machine.move_to(at(jurisdiction, 2026, 3, 2, 9), tick=False)
        case = submit(jurisdiction, request_type, received_at=at(jurisdiction, 2026, 3, 2, 9))
        case = services.confirm_email(case)
        if case.state == State.VERIFYING:
            case = services.verify_identity(case, manager, method="Account login")
        time_machine.move_to(at(jurisdiction, *decided), tick=False)
        return services.deny(case, manager, reasons="The data is needed to complete your open order")

    return _denied


def test_cpa_appeal_happy_path_with_extension_to_105_days(denied, manager, run, time_machine):
    case = denied("US-CO", (2026, 4, 10, 15))
    window = clock(case, "appeal_window")
    assert (window.start_date, window.due_date) == (dt.date(2026, 4, 10), dt.date(2026, 5, 25))
    time_machine.move_to(at("US-CO", 2026, 5, 1, 12), tick=False)
    appeal = services.file_appeal(case, statement="I closed my orders last month")
    assert appeal.state == AppealState.RECEIVED and appeal.late_accepted_reason == ""
    respond = clock(case, "appeal_respond", appeal=appeal)
    assert (respond.start_date, respond.due_date, respond.extended_due_date) == (
        dt.date(2026, 5, 1), dt.date(2026, 6, 15), dt.date(2026, 8, 14))  # C.R.S. 6-1-1306(3)(b): 45, +60
    assert clock(case, "appeal_window").status == DeadlineStatus.MET
    appeal.refresh_from_db()
    assert appeal.next_due_at == respond.due_at
    filed = case.events.get(kind="appeal_filed")
    assert filed.appeal == appeal and filed.public and filed.actor_label == "requester"
    assert Notification.objects.filter(case=case, kind="appeal_received").count() == 1

    time_machine.move_to(at("US-CO", 2026, 6, 10, 12), tick=False)
    services.extend_deadline(case, manager, reason="Need the logistics partner's records", appeal=appeal)
    respond.refresh_from_db()
    assert respond.extended and respond.due_date == dt.date(2026, 8, 14)
    assert case.events.get(kind="deadline_extended").appeal == appeal
    assert case.letters.get(kind="extension_notice").appeal == appeal
    with pytest.raises(ServiceError, match="already extended"):
        services.extend_deadline(case, manager, reason="Again", appeal=appeal)

    appeal = services.start_appeal_review(appeal, manager)
    assert appeal.state == AppealState.IN_REVIEW
    appeal = run(services.decide_appeal, appeal, manager, outcome="upheld", reasons="Open order confirmed")
    assert appeal.state == AppealState.UPHELD and appeal.decided_by == manager and appeal.next_due_at is None
    assert clock(case, "appeal_respond", appeal=appeal).status == DeadlineStatus.MET
    letter = case.letters.get(kind="appeal_decision")
    assert letter.appeal == appeal and "Colorado" in letter.context["attorney_general"]
    steps = [(e.kind, e.from_state, e.to_state) for e in case.events.filter(appeal=appeal).exclude(to_state="")]
    assert steps == [("appeal_review_started", "received", "in_review"), ("appeal_decided", "in_review", "upheld")]


@pytest.mark.parametrize("jurisdiction,attorney_general", [("US-CT", "Connecticut"), ("US-VA", "Virginia")])
def test_ctdpa_and_vcdpa_appeals_60_days_without_extension(denied, manager, time_machine, jurisdiction,
                                                          attorney_general):
    case = denied(jurisdiction, (2026, 3, 20, 10))
    assert clock(case, "appeal_window").due_date == dt.date(2026, 5, 4)
    time_machine.move_to(at(jurisdiction, 2026, 4, 1, 10), tick=False)
    appeal = services.file_appeal(case, statement="Please look again")
    respond = clock(case, "appeal_respond", appeal=appeal)
    assert (respond.due_date, respond.extended_due_date) == (dt.date(2026, 5, 31), None)
    with pytest.raises(ServiceError, match="appeal_respond clock .* cannot be extended"):
        services.extend_deadline(case, manager, reason="Busy", appeal=appeal)
    appeal = services.decide_appeal(appeal, manager, outcome="partially_reversed", reasons="We delete most of it")
    assert appeal.state == AppealState.PARTIALLY_REVERSED
    assert attorney_general in case.letters.get(kind="appeal_decision").context["attorney_general"]


def test_late_appeal_refused_unless_a_manager_accepts_it_with_a_reason(denied, manager, analyst, time_machine):
    case = denied("US-VA", (2026, 3, 10, 10))
    assert clock(case, "appeal_window").due_date == dt.date(2026, 4, 24)
    # the last minute of the window is in time (end of the day, Virginia time) …
    time_machine.move_to(at("US-VA", 2026, 4, 25, 0, 0, 1), tick=False)
    with pytest.raises(AppealWindowClosed, match=r"closed on 2026-04-24: appeals must be filed within 45 days"):
        services.file_appeal(case, statement="I was travelling")
    with pytest.raises(AppealWindowClosed):  # a requester cannot accept their own late appeal
        services.file_appeal(case, statement="I was travelling", accept_late_reason="Travelling")
    with pytest.raises(AppealWindowClosed):  # staff need a reason
        services.file_appeal(case, statement="I was travelling", user=manager, accept_late_reason=" ")
    with pytest.raises(PermissionDenied, match="Only a manager may accept a late appeal"):
        services.file_appeal(case, statement="I was travelling", user=analyst, accept_late_reason="Hospital stay")
    assert not case.appeals.exists()
    appeal = services.file_appeal(case, statement="I was travelling", user=manager,
                                  accept_late_reason="Hospital stay documented")
    assert appeal.late_accepted_reason == "Hospital stay documented"
    assert clock(case, "appeal_window").status == DeadlineStatus.LAPSED
    accepted = case.events.get(kind="late_appeal_accepted")
    assert accepted.actor == manager and accepted.reason == "Hospital stay documented"
    assert accepted.data["window_closed_on"] == "2026-04-24"
    assert clock(case, "appeal_respond", appeal=appeal).due_date == dt.date(2026, 6, 24)


def test_appeal_on_the_last_day_of_the_window_is_in_time(denied, time_machine):
    case = denied("US-VA", (2026, 3, 10, 10))
    time_machine.move_to(at("US-VA", 2026, 4, 24, 23, 59, 59), tick=False)
    appeal = services.file_appeal(case, statement="Just in time")
    assert appeal.late_accepted_reason == ""
    assert not case.events.filter(kind="late_appeal_accepted").exists()


@pytest.mark.parametrize("jurisdiction", ["US-CA", "US-UT", "US-NV"])
def test_no_appeal_in_ccpa_ucpa_nrs603a(denied, manager, jurisdiction):
    case = denied(jurisdiction, (2026, 3, 20, 10))
    assert clock(case, "appeal_window") is None
    with pytest.raises(ServiceError, match="gives no right to appeal"):
        services.file_appeal(case, statement="Please reconsider", user=manager, accept_late_reason="x")
    assert not case.appeals.exists()


def test_only_a_refusal_can_be_appealed_and_only_once(submit, denied, manager, time_machine):
    time_machine.move_to(at("US-CO", 2026, 3, 2, 9), tick=False)
    fulfilled = services.fulfil(services.verify_identity(
        services.confirm_email(submit("US-CO", "access")), manager, method="Login"), manager)
    with pytest.raises(ServiceError, match="Only a decision that refused action"):
        services.file_appeal(fulfilled, statement="?")
    case = denied("US-CO", (2026, 3, 20, 10))
    services.file_appeal(case, statement="First")
    with pytest.raises(ServiceError, match="has already been appealed"):
        services.file_appeal(case, statement="Second")


def test_appeal_decisions_need_a_manager_and_reasons(denied, manager, analyst, time_machine):
    case = denied("US-CT", (2026, 3, 20, 10))
    appeal = services.file_appeal(case, statement="Why?")
    with pytest.raises(PermissionDenied):
        services.start_appeal_review(appeal, analyst)
    with pytest.raises(PermissionDenied):
        services.decide_appeal(appeal, analyst, outcome="reversed", reasons="Fine")
    with pytest.raises(ServiceError, match="must give its reasons"):
        services.decide_appeal(appeal, manager, outcome="reversed", reasons="")
    with pytest.raises(ServiceError, match="Unknown appeal outcome"):
        services.decide_appeal(appeal, manager, outcome="maybe", reasons="Hmm")
    stale = appeal.version
    services.start_appeal_review(appeal, manager)
    with pytest.raises(Conflict):
        services.decide_appeal(appeal, manager, outcome="reversed", reasons="We delete", expected_version=stale)
    appeal = services.decide_appeal(appeal, manager, outcome="reversed", reasons="We delete")
    with pytest.raises(ServiceError, match="already decided"):
        services.decide_appeal(appeal, manager, outcome="upheld", reasons="No")
