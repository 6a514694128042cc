"""Clock rules of spec section 3 the workflow broke: an expired clock stays expired, the UK pause
is for access requests only, and a clock kind is extended once per request whatever happens."""
import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from requests_app import services
from requests_app.models import Awaiting, DataSubjectRequest, Event
from requests_app.services import ServiceError

LONDON, MEXICO = ZoneInfo("Europe/London"), ZoneInfo("America/Mexico_City")


def clock(case, kind="respond"):
    return case.deadlines.filter(kind=kind).order_by("-id").first()


def uk_case(submit, manager, now, request_type="access"):
    now(dt.datetime(2026, 3, 2, 10, tzinfo=LONDON))
    case = services.confirm_email(submit("GB", request_type))
    return services.verify_identity(case, manager, method="account login")


def test_it_never_pauses_an_expired_uk_clock_nor_takes_the_case_off_the_overdue_list(submit, manager, now):
    case = uk_case(submit, manager, now)
    assert clock(case).due_date == dt.date(2026, 4, 2)
    now(dt.datetime(2026, 4, 10, 10, tzinfo=LONDON))  # a week after the deadline
    services.request_information(case, manager, what=Awaiting.CLARIFICATION, message="Which account?")
    respond = clock(case)
    assert respond.paused_since is None and respond.due_date == dt.date(2026, 4, 2)
    assert not Event.objects.filter(case=case, kind="clock_paused").exists()
    case.refresh_from_db()
    assert case.next_due_at == respond.due_at
    assert DataSubjectRequest.objects.filter(services.overdue_q(), pk=case.pk).exists()
    # The answer arrives: the clock is not resumed with extra days either.
    services.receive_reply(case, message="The shop account")
    assert clock(case).due_date == dt.date(2026, 4, 2) and clock(case).paused_days == 0


def test_it_never_restarts_an_expired_uk_clock_when_id_arrives_late(submit, manager, now):
    now(dt.datetime(2026, 3, 2, 10, tzinfo=LONDON))
    case = services.confirm_email(submit("GB", "access"))
    now(dt.datetime(2026, 4, 10, 10, tzinfo=LONDON))
    services.request_information(case, manager, what=Awaiting.IDENTITY, message="Please send ID")
    services.receive_reply(case, message="ID", upload=services.Upload("id.png", b"\x89PNG\r\n\x1a\n" + b"0" * 8,
                                                                       "image/png"))
    assert clock(case).start_date == dt.date(2026, 3, 2) and clock(case).due_date == dt.date(2026, 4, 2)
    assert not Event.objects.filter(case=case, kind="clock_restarted").exists()


@pytest.mark.parametrize("request_type", ["erasure", "rectification", "portability", "objection"])
def test_it_keeps_a_uk_clock_running_during_a_clarification_except_for_access(submit, manager, now, request_type):
    case = uk_case(submit, manager, now, request_type)
    services.request_information(case, manager, what=Awaiting.CLARIFICATION, message="Which account?")
    assert clock(case).paused_since is None
    case.refresh_from_db()
    assert case.next_due_kind == "respond"
    now(dt.datetime(2026, 3, 12, 10, tzinfo=LONDON))
    services.receive_reply(case, message="The shop account")
    assert clock(case).due_date == dt.date(2026, 4, 2)


def test_it_still_pauses_a_uk_access_clock_during_a_clarification(submit, manager, now):
    case = uk_case(submit, manager, now)
    services.request_information(case, manager, what=Awaiting.CLARIFICATION, message="Which account?")
    assert clock(case).paused_since == dt.date(2026, 3, 2)


def test_it_does_not_offer_a_pausing_clarification_for_uk_erasure(client, submit, manager, now):
    from django.urls import reverse

    case = uk_case(submit, manager, now, "erasure")
    client.force_login(manager)
    html = client.get(reverse("staff:case", args=[case.pk])).content.decode()
    assert "the clock pauses" not in html and "Clarification" in html


def test_it_allows_one_extension_per_request_and_clock_kind_even_after_a_restart(submit, manager, now):
    now(dt.datetime(2026, 9, 1, 10, tzinfo=MEXICO))
    case = services.confirm_email(submit("MX", "access"))
    services.extend_deadline(case, manager, reason="Several systems to search", kind="determination")
    services.request_information(case, manager, what=Awaiting.INFORMATION, message="Your account number?")
    services.receive_reply(case, message="Account 42")
    assert clock(case, "determination").extended is False  # the restarted clock
    with pytest.raises(ServiceError, match="already extended"):
        services.extend_deadline(case, manager, reason="Again", kind="determination")
    from requests_app.views.staff import extendable_clocks

    assert [d.kind for d in extendable_clocks(case)] == []
    assert Event.objects.filter(case=case, kind="deadline_extended").count() == 1
