"""Mexico's two phases through the services: request_information (once, within 5 business days) →
requester_reply (10 business days, or the request is deemed not filed) → determination (20) →
effective (15), each extendable once where the law allows."""
import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from requests_app import services
from requests_app.models import Awaiting, DeadlineStatus, State
from requests_app.services import ServiceError

MX = ZoneInfo("America/Mexico_City")
T0 = dt.datetime(2026, 9, 1, 10, tzinfo=MX)  # Tuesday; 16 September is Independence Day


def on(*args):
    return dt.datetime(*args, tzinfo=MX)


def clock(case, kind, status=None):
    qs = case.deadlines.filter(kind=kind)
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-id").first()


def dates(d):
    return d.start_date, d.due_date, d.extended_due_date



@pytest.fixture
def mx_case(submit, manager, now):
    case = submit("MX", "access", language="es", account_id="CUST-4471", data_description="Mis pedidos de 2025")
    return services.confirm_email(case)


def test_complete_request_determined_admissible_then_carried_out(mx_case, manager, run, now):
    case = mx_case
    assert dates(clock(case, "request_information")) == (dt.date(2026, 9, 1), dt.date(2026, 9, 8), None)
    assert dates(clock(case, "determination")) == (dt.date(2026, 9, 1), dt.date(2026, 9, 30), dt.date(2026, 10, 28))
    assert case.next_due_kind == "determination"
    case = services.verify_identity(case, manager, method="INE checked")
    with pytest.raises(ServiceError, match="cannot fulfil while it is 'In progress'"):
        services.fulfil(case, manager)  # first the determination must be communicated
    with pytest.raises(ServiceError, match="cannot deny while it is 'In progress'"):
        services.deny(case, manager, reasons="No")  # a refusal is an inadmissible determination

    now(on(2026, 9, 15, 12))
    case = run(services.determine, case, manager, admissible=True)
    assert case.state == State.ADMISSIBLE
    assert clock(case, "determination").status == DeadlineStatus.MET
    effective = clock(case, "effective")
    assert dates(effective) == (dt.date(2026, 9, 15), dt.date(2026, 10, 7), dt.date(2026, 10, 28))
    assert case.next_due_kind == "effective" and case.next_due_at == effective.due_at
    assert case.letters.get(kind="determination").context["effective_due"] == "2026-10-07"
    event = case.events.get(kind="determine_admissible")
    assert (event.from_state, event.to_state, event.actor) == ("in_progress", "admissible", manager)

    now(on(2026, 10, 1, 12))
    case = services.fulfil(case, manager)
    assert case.state == State.FULFILLED and clock(case, "effective").status == DeadlineStatus.MET
    assert not case.deadlines.filter(status=DeadlineStatus.OPEN).exists()


def test_missing_information_once_then_determination_counts_from_the_complete_request(mx_case, manager, now):
    case = mx_case
    now(on(2026, 9, 4, 11))
    case = services.request_information(case, manager, what=Awaiting.INFORMATION,
                                        message="Indique el número de pedido")
    assert case.state == State.AWAITING_REQUESTER
    assert clock(case, "request_information").status == DeadlineStatus.MET
    assert clock(case, "determination").status == DeadlineStatus.CANCELLED
    reply = clock(case, "requester_reply")
    assert dates(reply) == (dt.date(2026, 9, 4), dt.date(2026, 9, 21), None) and not reply.is_obligation
    assert case.letters.get(kind="request_information").context["reply_due"] == "2026-09-21"

    now(on(2026, 9, 10, 17))
    case = services.receive_reply(case, message="Pedido 8812-33")
    assert case.state == State.VERIFYING  # identity still to be checked
    assert clock(case, "requester_reply").status == DeadlineStatus.MET
    determination = clock(case, "determination", DeadlineStatus.OPEN)
    assert dates(determination) == (dt.date(2026, 9, 10), dt.date(2026, 10, 9), dt.date(2026, 11, 6))
    assert case.next_due_kind == "determination"

    case = services.verify_identity(case, manager, method="INE checked")
    with pytest.raises(ServiceError, match="only once"):
        services.request_information(case, manager, what=Awaiting.INFORMATION, message="One more thing")


def test_information_can_only_be_asked_within_5_business_days(mx_case, manager, now):
    now(on(2026, 9, 9, 0, 0, 1))  # the window ended with 8 September
    with pytest.raises(ServiceError, match="5 business days to request missing information have passed"):
        services.request_information(mx_case, manager, what=Awaiting.INFORMATION, message="Número de pedido")
    mx_case.refresh_from_db()
    assert mx_case.state == State.VERIFYING and clock(mx_case, "determination").status == DeadlineStatus.OPEN


def test_information_on_the_last_day_of_the_window(mx_case, manager, now):
    now(on(2026, 9, 8, 23, 0))
    case = services.request_information(mx_case, manager, what=Awaiting.IDENTITY, message="Copia de su INE")
    assert clock(case, "requester_reply").due_date == dt.date(2026, 9, 23)  # 16 Sept skipped


def test_no_reply_within_10_business_days_closes_the_request_as_not_filed(mx_case, manager, run, now):
    now(on(2026, 9, 4, 11))
    case = services.request_information(mx_case, manager, what=Awaiting.INFORMATION, message="Número de pedido")
    now(on(2026, 9, 21, 23, 0))
    with pytest.raises(ServiceError, match="has until 2026-09-21"):
        services.close_not_filed(case, reason="No reply")
    now(on(2026, 9, 22, 0, 30))
    with pytest.raises(ServiceError, match="ended on 2026-09-21; the request is deemed not filed"):
        services.receive_reply(case, message="Too late")
    case = run(services.close_not_filed, case, reason="No reply within 10 business days (LFPDPPP)")
    assert case.state == State.NOT_FILED and case.closed_at is not None and case.next_due_at is None
    assert clock(case, "requester_reply").status == DeadlineStatus.LAPSED
    assert not case.deadlines.filter(status=DeadlineStatus.OPEN).exists()
    letter = case.letters.get(kind="not_filed")
    assert letter.status == "issued" and letter.language == "es"
    event = case.events.get(kind="close_not_filed")
    assert (event.from_state, event.to_state, event.actor_label) == ("awaiting_requester", "not_filed", "system")
    assert services.close_not_filed(case, reason="again").state == State.NOT_FILED  # idempotent


def test_inadmissible_determination_closes_the_case_with_reasons(mx_case, manager, now):
    case = services.verify_identity(mx_case, manager, method="INE checked")
    with pytest.raises(ServiceError, match="must state its reasons"):
        services.determine(case, manager, admissible=False)
    now(on(2026, 9, 20, 10))
    case = services.determine(case, manager, admissible=False, reasons="No data about you in our records")
    assert case.state == State.INADMISSIBLE and case.closed_at and case.decision_sent_at
    assert not case.deadlines.filter(status=DeadlineStatus.OPEN).exists()
    assert clock(case, "determination").status == DeadlineStatus.MET
    assert case.letters.get(kind="determination").context["admissible"] is False


def test_determination_and_effective_extend_once_each(mx_case, manager, now):
    case = services.verify_identity(mx_case, manager, method="INE checked")
    now(on(2026, 9, 25, 10))
    services.extend_deadline(case, manager, reason="Data held by three subsidiaries")
    assert clock(case, "determination").due_date == dt.date(2026, 10, 28)  # +20 business days
    with pytest.raises(ServiceError, match="already extended"):
        services.extend_deadline(case, manager, reason="Again")
    now(on(2026, 10, 20, 10))
    case = services.determine(case, manager, admissible=True)
    assert dates(clock(case, "effective")) == (dt.date(2026, 10, 20), dt.date(2026, 11, 10), dt.date(2026, 12, 2))
    services.extend_deadline(case, manager, reason="Backups must be purged too")
    assert clock(case, "effective").due_date == dt.date(2026, 12, 2)  # 16 November skipped
    kinds = [e.data["clock"] for e in case.events.filter(kind="deadline_extended")]
    assert kinds == ["determination", "effective"]
