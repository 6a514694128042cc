"""GDPR, UK GDPR (restart on ID or fee, pause for clarification) and LGPD through the services."""
import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from requests_app import services
from requests_app.models import Awaiting, DeadlineStatus, State
from requests_app.services import ServiceError

BERLIN, LONDON, SAO_PAULO = ZoneInfo("Europe/Berlin"), ZoneInfo("Europe/London"), ZoneInfo("America/Sao_Paulo")
ID_SCAN = services.Upload("passport.png", b"\x89PNG\r\n\x1a\n" + b"0" * 64, "image/png")


def respond(case):
    return case.deadlines.filter(kind="respond").order_by("-id").first()



# --- gdpr ----------------------------------------------------------------------------------------

def test_gdpr_rolls_forward_and_extends_to_three_months(submit, manager, now):
    now(dt.datetime(2026, 1, 31, 12, tzinfo=BERLIN))
    case = submit("DE", "access", received_at=dt.datetime(2026, 1, 31, 12, tzinfo=BERLIN))
    assert (respond(case).due_date, respond(case).extended_due_date) == (dt.date(2026, 3, 2), dt.date(2026, 4, 30))
    case = services.verify_identity(services.confirm_email(case), manager, method="Account login")
    # 28 Feb is a Saturday: the rolled due date, Monday 2 March, is still in time for an extension
    now(dt.datetime(2026, 3, 2, 23, 30, tzinfo=BERLIN))
    services.extend_deadline(case, manager, reason="Complex request across several services")
    assert respond(case).due_date == dt.date(2026, 4, 30)
    case = services.deny(case, manager, reasons="Manifestly excessive: the fifth identical request (Art. 12(5))")
    assert case.state == State.DENIED
    assert not case.deadlines.filter(kind="appeal_window").exists()  # no appeal step under the GDPR


def test_gdpr_extension_refused_after_the_rolled_deadline(submit, manager, now):
    now(dt.datetime(2026, 4, 1, 9, tzinfo=ZoneInfo("Europe/Paris")))
    case = submit("FR", "erasure", received_at=dt.datetime(2026, 4, 1, 9, tzinfo=ZoneInfo("Europe/Paris")))
    assert respond(case).due_date == dt.date(2026, 5, 4)  # 1 May is Labour Day, then a weekend
    now(dt.datetime(2026, 5, 5, 0, 0, 1, tzinfo=ZoneInfo("Europe/Paris")))
    with pytest.raises(ServiceError, match="expired on 2026-05-04"):
        services.extend_deadline(case, manager, reason="Late")


def test_outside_the_uk_asking_for_id_does_not_stop_the_clock(submit, manager, now):
    now(dt.datetime(2026, 3, 2, 10, tzinfo=BERLIN))
    case = services.confirm_email(submit("DE", "access"))
    services.request_information(case, manager, what=Awaiting.IDENTITY, message="Please send a copy of your ID")
    assert respond(case).paused_since is None and respond(case).due_date == dt.date(2026, 4, 2)
    case.refresh_from_db()
    assert case.state == State.AWAITING_REQUESTER and case.next_due_kind == "respond"


# --- uk_gdpr --------------------------------------------------------------------------------------

@pytest.mark.parametrize("what", [Awaiting.IDENTITY, Awaiting.FEE])
def test_uk_identity_or_fee_restarts_the_month_from_the_reply(submit, manager, now, what):
    now(dt.datetime(2026, 3, 2, 10, tzinfo=LONDON))
    case = services.confirm_email(submit("GB", "access"))
    assert respond(case).due_date == dt.date(2026, 4, 2)
    now(dt.datetime(2026, 3, 5, 10, tzinfo=LONDON))
    case = services.request_information(case, manager, what=what, message="We need this before we can start")
    assert case.state == State.AWAITING_REQUESTER and case.awaiting == what
    assert respond(case).paused_since == dt.date(2026, 3, 5)
    assert case.next_due_at is None  # nothing runs against us while we wait
    paused = case.events.get(kind="clock_paused")
    assert paused.data == {"clock": "respond", "since": "2026-03-05", "why": what}

    now(dt.datetime(2026, 3, 20, 18, tzinfo=LONDON))
    case = services.receive_reply(case, message="Here it is", upload=ID_SCAN if what == Awaiting.IDENTITY else None)
    assert case.state == State.VERIFYING and case.awaiting == ""
    clock = respond(case)
    assert (clock.start_date, clock.due_date, clock.extended_due_date, clock.restarts, clock.paused_since) == (
        dt.date(2026, 3, 20), dt.date(2026, 4, 20), dt.date(2026, 6, 22), 1, None)  # 20 June is a Saturday
    restarted = case.events.get(kind="clock_restarted")
    assert restarted.actor_label == "requester"
    assert (restarted.data["from"], restarted.data["due"], restarted.data["start"]) == (
        "2026-04-02", "2026-04-20", "2026-03-20")
    case.refresh_from_db()
    assert case.next_due_kind == "respond" and case.next_due_at == clock.due_at


def test_uk_clarification_pause_adds_the_whole_paused_days(submit, manager, now):
    now(dt.datetime(2026, 3, 2, 10, tzinfo=LONDON))
    case = services.verify_identity(services.confirm_email(submit("GB", "access")), manager, method="Login")
    now(dt.datetime(2026, 3, 10, 16, tzinfo=LONDON))
    case = services.request_information(case, manager, what=Awaiting.CLARIFICATION,
                                        message="Which of your two accounts do you mean?")
    with pytest.raises(ServiceError, match="stopped while we wait"):
        services.extend_deadline(case, manager, reason="Volume")
    now(dt.datetime(2026, 3, 17, 9, tzinfo=LONDON))
    case = services.receive_reply(case, message="The shop account")
    assert case.state == State.IN_PROGRESS  # already verified
    clock = respond(case)
    assert (clock.start_date, clock.paused_days, clock.due_date, clock.extended_due_date) == (
        dt.date(2026, 3, 2), 7, dt.date(2026, 4, 9), dt.date(2026, 6, 9))
    resumed = case.events.get(kind="clock_resumed")
    assert (resumed.data["from"], resumed.data["due"], resumed.data["paused_days"]) == ("2026-04-02", "2026-04-09", 7)
    services.extend_deadline(case, manager, reason="Volume")
    assert respond(case).due_date == dt.date(2026, 6, 9)


def test_uk_pause_is_added_before_rolling_over_christmas(submit, manager, now):  # access: the pause is for access only
    now(dt.datetime(2026, 11, 20, 10, tzinfo=LONDON))
    case = services.verify_identity(services.confirm_email(submit("GB", "access")), manager, method="Login")
    assert respond(case).due_date == dt.date(2026, 12, 21)  # 20 Dec is a Sunday
    now(dt.datetime(2026, 11, 23, 10, tzinfo=LONDON))
    case = services.request_information(case, manager, what=Awaiting.CLARIFICATION, message="Which address?")
    now(dt.datetime(2026, 11, 28, 10, tzinfo=LONDON))
    services.receive_reply(case, message="The old one")
    # 20 Dec + 5 paused days = 25 Dec (Christmas), 26-27 weekend, 28 Boxing Day substitute
    assert respond(case).due_date == dt.date(2026, 12, 29)


def test_uk_missing_information_does_not_pause(submit, manager, now):
    now(dt.datetime(2026, 3, 2, 10, tzinfo=LONDON))
    case = services.verify_identity(services.confirm_email(submit("GB", "portability")), manager, method="Login")
    services.request_information(case, manager, what=Awaiting.INFORMATION, message="Which format?")
    assert respond(case).paused_since is None and not case.events.filter(kind="clock_paused").exists()


def test_requests_for_information_need_a_message_and_a_known_kind(submit, manager, now):
    now(dt.datetime(2026, 3, 2, 10, tzinfo=LONDON))
    case = services.confirm_email(submit("GB", "access"))
    with pytest.raises(ServiceError, match="Write what you need"):
        services.request_information(case, manager, what=Awaiting.IDENTITY, message="")
    with pytest.raises(ServiceError, match="Unknown kind"):
        services.request_information(case, manager, what="blood_sample", message="Please")
    with pytest.raises(ServiceError, match="not waiting for an answer"):
        services.receive_reply(case, message="Unasked")


# --- lgpd ------------------------------------------------------------------------------------------

def test_lgpd_15_days_without_extension(submit, manager, now):
    now(dt.datetime(2026, 3, 2, 10, tzinfo=SAO_PAULO))
    case = submit("BR", "access", language="pt-br", filer="legal_representative", agent_name="Dra. Lima",
                  agent_email="lima@advogados.example", authorisation=ID_SCAN)
    assert (respond(case).due_date, respond(case).extended_due_date) == (dt.date(2026, 3, 17), None)
    case = services.verify_identity(services.confirm_email(case), manager, method="Procuração verificada")
    with pytest.raises(ServiceError, match=r"cannot be extended \(LGPD Art. 19 II\)"):
        services.extend_deadline(case, manager, reason="Volume")
    assert not respond(case).extended
    case = services.fulfil(case, manager)
    assert case.state == State.FULFILLED and respond(case).status == DeadlineStatus.MET
    assert [e.kind for e in case.events.exclude(to_state="").exclude(kind="submitted")] == [
        "confirm_email", "verify", "fulfil"]
