"""The staff read queries: queue order and filters, time left as each clock counts, visibility,
overdue lists and the CCPA metrics (11 CCR §7102)."""
import datetime as dt

import pytest
import time_machine

from requests_app import selectors, services
from requests_app.models import State
from requests_app.selectors import QueueFilters, decorate, queue
from tests.fixtures import make_user
from tests.fixtures import submit_case as submit

UTC = dt.timezone.utc
T0 = dt.datetime(2026, 3, 2, 17, 0, tzinfo=UTC)  # Monday 09:00 in California



def rows(user, now=None, **filters):
    now = now or dt.datetime.now(UTC)
    return decorate(queue(user, QueueFilters(**filters), now), now)


def refs(user, **filters):
    return [r.reference for r in rows(user, **filters)]


def denied_with_appeal(manager, jurisdiction="US-CO", email=None):
    case = submit(jurisdiction, requester_email=email or f"appeal-{jurisdiction}@example.com")
    services.confirm_email(case)
    services.verify_identity(case, manager, method="account login")
    services.deny(case, manager, reasons="We hold no data about you.")
    return services.file_appeal(case, statement="You do hold my data.")


@pytest.fixture
def frozen():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def test_queue_is_most_urgent_first_with_overdue_on_top_and_appeals_interleaved(frozen, manager):
    old = submit("DE", received_at=T0 - dt.timedelta(days=40), requester_email="old@example.com")  # overdue
    optout = submit("US-CA", "opt_out_sale_sharing", requester_email="o@example.com")  # 15 business days: 23 March
    gdpr = submit("DE")  # 1 month: 2 April
    appeal = denied_with_appeal(manager)  # appeal decision in 45 days: end of 16 April in Denver
    know = submit("US-CA", "access")  # 45 days: end of 16 April in California, an hour after Denver
    items = rows(manager)
    assert [(r.reference, r.kind) for r in items] == [
        (old.reference, "case"), (optout.reference, "case"), (gdpr.reference, "case"),
        (appeal.case.reference, "appeal"), (know.reference, "case"),
    ]
    assert items[0].overdue and items[0].alert == "overdue" and items[0].time_left < 0
    assert items[3].appeal_id == appeal.pk and items[3].due_kind == "appeal_respond"
    assert items[3].state == "received" and items[3].state_label == "Received"


def test_time_left_counts_business_days_for_business_day_clocks_and_calendar_days_otherwise(frozen, manager):
    know = submit("US-CA", "access")
    optout = submit("US-CA", "opt_out_sale_sharing", requester_email="o@example.com")
    gdpr = submit("DE", requester_email="de@example.com")
    mx = submit("MX", requester_email="mx@example.com")
    by_ref = {r.reference: r for r in rows(manager)}
    # §1798.130(a)(2): 45 calendar days; 11 CCR §7026(f): 15 business days; GDPR: a calendar month;
    # LFPDPPP: 20 business days to determine (16 March is a holiday in Mexico).
    assert (by_ref[know.reference].unit, by_ref[know.reference].time_left) == ("calendar", 45)
    assert (by_ref[optout.reference].unit, by_ref[optout.reference].time_left) == ("business", 15)
    assert by_ref[optout.reference].due_date == dt.date(2026, 3, 23)
    assert (by_ref[gdpr.reference].unit, by_ref[gdpr.reference].time_left) == ("calendar", 31)
    assert by_ref[gdpr.reference].left_display == "31 d"
    assert (by_ref[mx.reference].unit, by_ref[mx.reference].time_left) == ("business", 20)
    assert by_ref[mx.reference].due_date == dt.date(2026, 3, 31)
    # Friday 27 March: the opt-out (due Monday 23rd) is 4 business days overdue.
    frozen.move_to(dt.datetime(2026, 3, 27, 18, 0, tzinfo=UTC))
    late = {r.reference: r for r in rows(manager)}[optout.reference]
    assert late.time_left == -4 and late.left_display == "-4 bd" and late.overdue


def test_due_today_is_zero_and_alert_levels_follow_the_sweep_thresholds(frozen, manager, settings):
    settings.DSAR_DUE_SOON_DAYS, settings.DSAR_URGENT_DAYS = 7, 2
    optout = submit("US-CA", "opt_out_sale_sharing")
    frozen.move_to(dt.datetime(2026, 3, 23, 18, 0, tzinfo=UTC))  # 11:00 in California on the due date
    row = {r.reference: r for r in rows(manager)}[optout.reference]
    assert row.time_left == 0 and row.left_display == "due today" and row.alert == "urgent"
    frozen.move_to(dt.datetime(2026, 3, 18, 18, 0, tzinfo=UTC))
    assert {r.reference: r for r in rows(manager)}[optout.reference].alert == "due_soon"


def test_filters(frozen, manager, analyst):
    overdue = submit("DE", received_at=T0 - dt.timedelta(days=40), requester_email="old@example.com")
    know = submit("US-CA", "access", requester_name="Bea Bauer", requester_email="Bea@Example.org")
    optout = submit("US-CA", "opt_out_sale_sharing", requester_email="o@example.com")
    mx = submit("MX")
    appeal = denied_with_appeal(manager)
    services.assign(know, manager, analyst)
    services.confirm_email(optout)  # opt-outs need no verification: straight to in progress
    assert refs(manager, regime="ccpa") == [optout.reference, know.reference]
    assert refs(manager, request_type="opt_out_sale_sharing") == [optout.reference]
    assert refs(manager, state=State.IN_PROGRESS) == [optout.reference]
    assert refs(manager, state="appeal:received") == [appeal.case.reference]
    assert refs(manager, show="appeals") == [appeal.case.reference]
    assert appeal.case.reference not in refs(manager, show="cases")
    assert refs(manager, assignee=str(analyst.pk)) == [know.reference]
    assert know.reference not in refs(manager, assignee="none")
    assert refs(manager, overdue=True) == [overdue.reference]
    # Overdue included; MX's next obligation is the determination (31 March), not in range.
    assert refs(manager, due_within=22) == [overdue.reference, optout.reference]
    assert mx.reference not in refs(manager, due_within=22)
    assert refs(analyst, mine=True) == [know.reference]
    # Search by the shape of the text: e-mail (any case), domain, reference, its number, name.
    assert refs(manager, q="bea@example.ORG") == [know.reference]
    assert refs(manager, q="@example.org") == [know.reference]
    assert refs(manager, q=know.reference.lower()) == [know.reference]
    assert refs(manager, q=str(know.pk)) == [know.reference]
    assert refs(manager, q=f"{T0.year}-{know.pk}") == [know.reference]
    assert refs(manager, q="bauer") == [know.reference]
    assert refs(manager, q="nobody") == []
    # Appeals are found through their case.
    assert refs(manager, q="appeal-US-CO@example.com") == [appeal.case.reference]


def test_repeat_filter(frozen, manager):
    for i in range(3):  # §1798.130(b): the third access request within 12 months is flagged
        submit("US-CA", "access", received_at=T0 - dt.timedelta(days=30 - i))
    flagged = refs(manager, repeat=True)
    assert len(flagged) == 1


def test_visibility_analyst_sees_own_and_unassigned_manager_and_auditor_see_all(frozen, manager, analyst, auditor,
                                                                                 make_user_fixture):
    other = make_user_fixture("olga", "analyst")
    mine = submit("DE", requester_email="m@example.com")
    theirs = submit("DE", requester_email="t@example.com")
    pool = submit("DE", requester_email="p@example.com")
    mine = services.assign(mine, manager, analyst)
    theirs = services.assign(theirs, manager, other)
    assert set(refs(analyst)) == {mine.reference, pool.reference}
    assert set(refs(manager)) == set(refs(auditor)) == {mine.reference, theirs.reference, pool.reference}
    assert selectors.can_see(analyst, mine) and selectors.can_see(analyst, pool)
    assert not selectors.can_see(analyst, theirs)


@pytest.fixture
def make_user_fixture(db):
    from tests.fixtures import make_user

    return make_user


def test_closed_cases_and_decided_appeals_leave_the_queue(frozen, manager):
    case = submit("DE")
    services.confirm_email(case)
    services.verify_identity(case, manager, method="login")
    appeal = denied_with_appeal(manager)
    services.fulfil(case, manager)
    services.decide_appeal(appeal, make_user("dan", "manager"), outcome="upheld", reasons="The decision stands.")
    assert refs(manager) == []


def test_summary_counts(frozen, manager, analyst):
    submit("DE", received_at=T0 - dt.timedelta(days=40), requester_email="old@example.com")
    submit("DE", received_at=T0 - dt.timedelta(days=27), requester_email="soon@example.com")  # due 3 March
    mine = submit("US-CA", "access")
    denied_with_appeal(manager)
    services.assign(mine, manager, analyst)
    s = selectors.queue_summary(manager)
    assert s["open"] == 3 and s["appeals"] == 1 and s["overdue"] == 1 and s["unassigned"] == 2
    assert s["due_soon"] == 1
    assert selectors.queue_summary(analyst)["mine"] == 1


def test_overdue_lists(frozen, manager):
    late = submit("DE", received_at=T0 - dt.timedelta(days=40), requester_email="old@example.com")
    submit("DE")
    appeal = denied_with_appeal(manager)
    assert list(selectors.overdue_cases()) == [late]
    frozen.move_to(T0 + dt.timedelta(days=50))
    assert list(selectors.overdue_appeals()) == [appeal]


def test_staff_choices_lists_people_who_can_work_cases(manager, analyst, auditor):
    assert [u.username for u in selectors.staff_choices()] == ["andy", "mia"]


def test_ccpa_metrics_per_year_and_type(manager):
    def decide(days, how, **kw):
        received = dt.datetime(2025, 2, 3, 18, 0, tzinfo=UTC)
        with time_machine.travel(received, tick=False):
            case = submit("US-CA", kw.pop("rtype", "access"), requester_email=f"{how}{days}@example.com")
            services.confirm_email(case)
        with time_machine.travel(received + dt.timedelta(days=days), tick=False):
            if how != "open":
                services.verify_identity(case, manager, method="login")
            know = {"categories": ["Identifiers"], "sources": ["You"], "purposes": ["Orders"],
                    "recipients": ["Couriers"]}
            if how == "fulfil":
                services.fulfil(case, manager, decision=know)
            elif how == "partial":
                services.partially_fulfil(case, manager, reasons="Trade secrets withheld", decision=know)
            elif how == "deny":
                services.deny(case, manager, reasons="Could not verify", decision={"basis": kw["basis"]})
        return case

    decide(10, "fulfil")
    decide(20, "fulfil")
    decide(40, "partial")
    decide(5, "deny", basis="unverifiable")
    decide(7, "deny", basis="exempt")
    decide(3, "open")
    with time_machine.travel(dt.datetime(2025, 5, 1, tzinfo=UTC), tick=False):
        optout = submit("US-CA", "opt_out_sale_sharing", requester_email="x@example.com")
        services.withdraw(optout, reason="changed my mind")
    with time_machine.travel(dt.datetime(2026, 1, 5, 18, tzinfo=UTC), tick=False):
        submit("US-CA", "deletion", requester_email="next-year@example.com")
    metrics = {r.request_type: r for r in selectors.ccpa_metrics(2025)}
    know = metrics["access"]
    assert (know.received, know.complied_in_whole, know.complied_in_part, know.complied) == (6, 2, 1, 3)
    assert know.denied == 2 and know.denied_by_basis == {"unverifiable": 1, "exempt": 1, "not_consumer": 0,
                                                         "other": 0}
    assert know.open == 1 and know.other == 0
    assert know.median_days == 10 and know.mean_days == round((10 + 20 + 40 + 5 + 7) / 5, 1)
    assert metrics["opt_out_sale_sharing"].received == 1 and metrics["opt_out_sale_sharing"].other == 1
    assert metrics["deletion"].received == 0
    assert selectors.ccpa_metrics(2026)[1].received == 1  # deletion, received in 2026
    assert 2025 in selectors.ccpa_metric_years()


def test_pages_of_the_queue_list_concatenate_to_the_full_ordering(frozen, manager):
    """On PostgreSQL each UNION branch is limited to the page's end: paging must not lose or
    repeat anything, including ties on the same due date and appeals between cases."""
    for i in range(14):
        submit(["DE", "US-CA", "GB", "MX"][i % 4], requester_email=f"p{i}@example.com",
               received_at=T0 - dt.timedelta(days=(i * 5) % 35))
    for i, jur in enumerate(["US-CO", "US-CT", "US-VA"]):
        denied_with_appeal(manager, jur, email=f"a{i}@example.com")
    full = list(queue(manager))
    listing = selectors.QueueList(manager)
    assert listing.count() == len(full) == 17
    for size in (1, 4, 7, 17, 50):
        paged = []
        for start in range(0, listing.count(), size):
            paged += listing[start:start + size]
        assert paged == full, size
    assert listing[5:5] == [] and selectors.QueueList(manager, QueueFilters(q="nobody")).count() == 0
    assert selectors.QueueList(manager, QueueFilters(show="appeals")).count() == 3
    assert selectors.QueueList(manager, QueueFilters(show="cases", regime="gdpr")).count() == 4
